"""autograder.intake: what of a collected submission reaches grading."""
import os
import shutil
import subprocess

import pytest

from autograder.build import REPO
from autograder.intake import stage_submission
from tests.test_fstree import make_deep, make_device, make_socket, run_with_timeout

RELEASE = REPO / "release" / "section03"


def release_notebooks(folder):
    """The notebook names (without ``.ipynb``) the assignment expects."""
    return sorted(path.stem for path in folder.glob("*.ipynb"))


def _submission(tmp_path):
    src = tmp_path / "submitted"
    src.mkdir()
    shutil.copy(RELEASE / "01_conv_arithmetic.ipynb", src)
    return src


def test_intake_keeps_the_exchange_submission_secret_for_release_feedback(tmp_path):
    src = _submission(tmp_path)
    (src / "submission_secret.txt").write_text("0123abcd")
    stage_submission(src, tmp_path / "staged", release_notebooks(RELEASE))
    assert (tmp_path / "staged" / "submission_secret.txt").read_text() == "0123abcd"


def test_intake_leaves_out_planted_helpers(tmp_path):
    src = _submission(tmp_path)
    (src / "helpers").mkdir()
    (src / "helpers" / "checks.py").write_text("def check(*a):\n    pass\n")
    intake = stage_submission(src, tmp_path / "staged", release_notebooks(RELEASE))
    assert not (tmp_path / "staged" / "helpers").exists()
    assert any("checks.py" in f for f in intake.removed_files)


# -- hostile submission folders: nothing but regular files is opened, nothing recursed ----

def _stage_within_timeout(src, dest, fifos=()):
    """stage_submission run with a join timeout: a FIFO that got opened fails the test."""
    finished, intake = run_with_timeout(stage_submission, src, dest, release_notebooks(RELEASE),
                                        fifos=fifos)
    assert finished, "stage_submission did not return (blocked on a FIFO or device?)"
    return intake


@pytest.fixture
def clean_tmp(tmp_path):
    """tmp_path, removed after the test: pytest's own cleanup recurses into deep trees."""
    yield tmp_path
    subprocess.run(["rm", "-rf", "--", str(tmp_path)], capture_output=True)


def test_intake_does_not_open_a_fifo_named_like_a_notebook(tmp_path):
    src = tmp_path / "submitted"
    src.mkdir()
    os.mkfifo(src / "01_conv_arithmetic.ipynb")
    intake = _stage_within_timeout(src, tmp_path / "staged", [src / "01_conv_arithmetic.ipynb"])
    assert "FIFO" in intake.corrupt["01_conv_arithmetic"]
    assert "01_conv_arithmetic" not in intake.staged
    assert not (tmp_path / "staged" / "01_conv_arithmetic.ipynb").exists()


def test_intake_does_not_open_a_fifo_named_timestamp(tmp_path):
    src = _submission(tmp_path)
    os.mkfifo(src / "timestamp.txt")
    intake = _stage_within_timeout(src, tmp_path / "staged", [src / "timestamp.txt"])
    assert any(f.startswith("timestamp.txt (FIFO") for f in intake.removed_files)
    assert not (tmp_path / "staged" / "timestamp.txt").exists()
    assert "01_conv_arithmetic" in intake.staged


def test_intake_does_not_read_a_device_named_like_a_notebook(tmp_path):
    src = tmp_path / "submitted"
    src.mkdir()
    make_device(src / "01_conv_arithmetic.ipynb")
    intake = _stage_within_timeout(src, tmp_path / "staged")
    assert "device file" in intake.corrupt["01_conv_arithmetic"]


def test_intake_lists_a_socket_among_the_removed_files(tmp_path):
    src = _submission(tmp_path)
    make_socket(src / "kernel.sock")
    intake = _stage_within_timeout(src, tmp_path / "staged")
    assert "kernel.sock (socket)" in intake.removed_files
    assert not os.path.lexists(tmp_path / "staged" / "kernel.sock")


def test_intake_lists_a_symlink_to_etc_passwd_and_does_not_copy_it(tmp_path):
    src = _submission(tmp_path)
    os.symlink("/etc/passwd", src / "answers.txt")
    intake = _stage_within_timeout(src, tmp_path / "staged")
    assert "answers.txt (symlink)" in intake.removed_files
    assert not os.path.lexists(tmp_path / "staged" / "answers.txt")


def test_intake_does_not_follow_a_symlinked_folder(tmp_path):
    src = _submission(tmp_path)
    os.symlink("/etc", src / "data")
    intake = _stage_within_timeout(src, tmp_path / "staged")
    assert intake.removed_files == ["data (symlink)"]


def test_intake_stages_the_notebook_next_to_a_1200_deep_tree(clean_tmp):
    src = _submission(clean_tmp)
    make_deep(src / "deep", 1200, name="level")
    intake = _stage_within_timeout(src, clean_tmp / "staged")
    assert intake.staged == ["01_conv_arithmetic"]
    assert len(intake.removed_files) == 1 and intake.removed_files[0].endswith("levels)")
    assert not (clean_tmp / "staged" / "deep").exists()


def test_intake_replaces_a_staging_folder_holding_a_1200_deep_tree(clean_tmp):
    src = _submission(clean_tmp)
    make_deep(clean_tmp / "staged" / "leftover", 1200)
    intake = _stage_within_timeout(src, clean_tmp / "staged")
    assert intake.staged == ["01_conv_arithmetic"]
    assert not (clean_tmp / "staged" / "leftover").exists()


def test_intake_stages_a_submission_with_a_deep_tree_fifo_socket_and_symlink(clean_tmp):
    src = _submission(clean_tmp)
    (src / "timestamp.txt").write_text("2030-01-01 10:00:00.000000 UTC")
    make_deep(src / "deep", 1200)
    os.mkfifo(src / "pipe")
    make_socket(src / "sock")
    os.symlink("/etc/passwd", src / "passwd")
    intake = _stage_within_timeout(src, clean_tmp / "staged", [src / "pipe"])
    assert intake.staged == ["01_conv_arithmetic"]
    assert {"pipe (FIFO (named pipe))", "sock (socket)", "passwd (symlink)"} <= \
        set(intake.removed_files)
    assert sorted(p.name for p in (clean_tmp / "staged").iterdir()) == \
        ["01_conv_arithmetic.ipynb", "timestamp.txt"]
