"""nbgrader_config.py: the autograding pipeline's contract, and nbgrader without an activated venv.

(Layout, timeouts and restored test cells are tested by what they do: test_generated.py and
test_hostile_submissions.py.)"""
import os
import subprocess
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from autograder.build import REPO


def _config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()


def test_nbgrader_creates_the_gradebook_without_the_venv_on_path(tmp_path):
    """nbgrader runs `alembic` by name; the config puts the venv's bin/ on PATH for it."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([str(nbgrader), "db", "upgrade", f"--CourseDirectory.db_url=sqlite:///{tmp_path}/gb.db"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "gb.db").exists()


def test_autograding_runs_student_code_only_in_the_sandbox_and_judges_outside_it():
    from nbgrader.converters import Autograde

    pipeline = [p if isinstance(p, str) else f"{p.__module__}.{p.__name__}"
                for p in Autograde(config=_config()).autograde_preprocessors]
    assert "nbgrader.preprocessors.Execute" not in pipeline
    order = [pipeline.index(p) for p in ("autograder.answers.PrepareChecks",
                                         "autograder.execute.SandboxedExecute",
                                         "autograder.execute.MarkNotRun",
                                         "autograder.answers.CheckAnswers",
                                         "nbgrader.preprocessors.SaveAutoGrades")]
    assert order == sorted(order)


def test_feedback_shows_only_sanitised_outputs():
    assert "autograder.sanitize.SanitizeOutputs" in _config().GenerateFeedback.preprocessors
