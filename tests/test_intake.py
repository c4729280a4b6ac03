"""autograder.intake: what of a collected submission reaches grading."""
import shutil

from autograder.build import REPO
from autograder.intake import expected_metadata, stage_submission

RELEASE = REPO / "release" / "section03"


def _submission(tmp_path):
    src = tmp_path / "submitted"
    src.mkdir()
    shutil.copy(RELEASE / "01_conv_arithmetic.ipynb", src)
    return src


def test_intake_keeps_the_exchange_submission_secret_for_release_feedback(tmp_path):
    src = _submission(tmp_path)
    (src / "submission_secret.txt").write_text("0123abcd")
    stage_submission(src, tmp_path / "staged", expected_metadata(RELEASE))
    assert (tmp_path / "staged" / "submission_secret.txt").read_text() == "0123abcd"


def test_intake_leaves_out_planted_helpers(tmp_path):
    src = _submission(tmp_path)
    (src / "helpers").mkdir()
    (src / "helpers" / "checks.py").write_text("def check(*a):\n    pass\n")
    intake = stage_submission(src, tmp_path / "staged", expected_metadata(RELEASE))
    assert not (tmp_path / "staged" / "helpers").exists()
    assert any("checks.py" in f for f in intake.removed_files)
