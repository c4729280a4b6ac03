"""A hang costs its time once: after one cell of a notebook has run out of time, each later
cell (and hidden test) gets at most ``SandboxedExecute.repeat_timeout`` seconds.

A student's ``conv_output_size`` that loops forever is called by three visible test cells and
by the hidden tests of every answer built on it; at the full limit each of those calls costs a
minute of a grading worker, and the students queued behind wait for it. The notebooks state
the rule where students write (the last test here checks the numbers they state).

Judged from the limit each timed-out cell had, as the run records it, not from a clock.
"""
from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.execute import SandboxedExecute

pytestmark = pytest.mark.nbgrader

SPIN = "def spin():\n    while True:\n        pass\n"


def _run(course, cells: list[str], **limits):
    """Run ``cells`` through the grading kernel's path with ``limits`` (trait: value)."""
    config = course.config
    for name, value in limits.items():
        setattr(config.SandboxedExecute, name, value)
    config.Execute.timeout = limits.get("timeout", config.Execute.timeout)
    nb = new_notebook(cells=[new_code_cell(code) for code in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = course.root / "work"
    folder.mkdir(exist_ok=True)
    nb, resources = SandboxedExecute(config=config).preprocess(
        nb, {"metadata": {"path": str(folder)}, "nbgrader": {"notebook": "spin"}})
    return nb, resources["autograder"]["run"]


def _limits(run) -> list[str]:
    """The recorded limit of each timed-out cell, e.g. ``["4 s", "1 s"]``."""
    return [event.rsplit(" after ", 1)[1] for event in run["events"] if " timed out after " in event]


@pytest.fixture(scope="module")
def spun(tmp_path_factory):
    from tests.toy_course import ToyCourse

    toy = ToyCourse.create(tmp_path_factory.mktemp("repeat-timeout") / "course")
    return _run(toy.course, [SPIN, "spin()", "spin()", "spin()", "print('still here')"],
                timeout=4, repeat_timeout=1)


def test_the_first_timeout_gets_the_full_limit(spun):
    _, run = spun
    assert _limits(run)[0] == "4 s"


def test_later_timeouts_of_the_notebook_get_the_repeat_limit(spun):
    _, run = spun
    assert _limits(run)[1:] == ["1 s", "1 s"]


def test_the_cells_after_the_hangs_still_run(spun):
    nb, run = spun
    assert run["timeouts"] == [1, 2, 3]
    assert [o.text for o in nb.cells[4].outputs] == ["still here\n"]


def test_a_repeat_limit_above_the_cell_limit_changes_nothing(tmp_path):
    from tests.toy_course import ToyCourse

    toy = ToyCourse.create(tmp_path / "course")
    _, run = _run(toy.course, [SPIN, "spin()", "spin()"], timeout=2, repeat_timeout=30)
    assert _limits(run) == ["2 s", "2 s"]


@pytest.mark.parametrize("notebook", ["01_conv_arithmetic", "02_kernel_of_truth",
                                      "03_l1_vectorization", "04_vector_backprop"])
def test_each_notebook_states_the_configured_time_limits(notebook):
    import nbformat

    from autograder.course import REPO_ROOT, Course

    config = Course(REPO_ROOT, "section03").config
    nb = nbformat.read(REPO_ROOT / "release" / "section03" / f"{notebook}.ipynb", as_version=4)
    text = " ".join(nb.cells[0].source.split())
    cell_limit, ask_limit = config.Execute.timeout, config.SandboxedExecute.ask_timeout
    assert cell_limit == ask_limit  # the paragraph names one limit for both
    assert f"each cell and each hidden test gets {cell_limit} seconds" in text
    assert f"the whole notebook {config.SandboxedExecute.notebook_budget // 60} minutes" in text
    assert f"each later one gets {config.SandboxedExecute.repeat_timeout} seconds" in text
