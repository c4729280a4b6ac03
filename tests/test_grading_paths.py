"""One notebook, one grade, whichever way it is graded: the class command, plain ``nbgrader
autograde`` (the CLI) and formgrader's Autograde button (``NbGraderAPI``).

Cells a student copies, pastes, deletes, reorders or retypes:

JupyterLab keeps a cell's metadata when it is copied, so a student who pastes the locked cell
that defines ``I`` and ``F`` from problem 2 into problem 3, or duplicates a test cell to run
it again, hands in grading metadata the release never had. Each student below hands in one
section03 notebook, correct (the answer key's solutions), with one kind of rearrangement;
the class is graded through the three ways a course grades: the class command, plain
``nbgrader autograde`` (the CLI) and formgrader's Autograde button (``NbGraderAPI``). Every
autograded cell must get full marks in each, and the repair is on record for the TA.

The decoy students try to make the source rules read code the kernel never ran (a cell
tagged ``skip-execution``; cells after the kernel's death): their one-loop and no-loop
answers use two loops, so honest work earns 3 of notebook 3's 10 points.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.coursebuild import BuiltCourse, graded_cells, solution_sources
from autograder.course import Course
from autograder.execute import SandboxedExecute
from autograder.grade import Options, grade_class
from autograder.repair import REPAIRS_KEY
from tests.conftest import TEST_COURSE_SECRET

pytestmark = pytest.mark.nbgrader

ASSIGNMENT = "section03"
PATHS = ("class-command", "nbgrader-autograde", "formgrader")
TWO_LOOPS = solution_sources(code_only=True)["03_l1_vectorization"]["compute_distances_two_loops"]


def _gid(cell) -> str | None:
    md = cell.metadata.get("nbgrader")
    return md.get("grade_id") if isinstance(md, dict) else None


def _index(nb, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if _gid(c) == gid)


def _take(nb, gid: str):
    return nb.cells.pop(_index(nb, gid))


def _copy(nb, gid: str):
    """A copy of the cell ``gid`` as JupyterLab pastes it: metadata kept, a new cell id."""
    cell = nbformat.from_dict(json.loads(json.dumps(nb.cells[_index(nb, gid)])))
    cell.id = nbformat.v4.new_code_cell().id
    return cell


def pasted_from_another_notebook(nb, release):
    """Problem 2's locked ``given_I_F`` cell after the imports; problem 1's test_q1c at the end."""
    nb.cells.insert(_index(nb, "imports") + 1, _copy(release("02_kernel_of_truth"), "given_I_F"))
    nb.cells.append(_copy(release("01_conv_arithmetic"), "test_q1c"))


def copied_twice(nb, release):
    """``forward`` copied below its test; ``test_backward`` pasted again at the end."""
    nb.cells.insert(_index(nb, "test_forward") + 1, _copy(nb, "forward"))
    nb.cells.append(_copy(nb, "test_backward"))


def graded_cells_deleted(nb, release):
    """Two test cells, a written answer and the locked text before it are deleted."""
    for gid in ("test_conv_output_size", "test_q1b", "text_08", "q1d"):
        _take(nb, gid)


def reordered(nb, release):
    """The closed forms (answers and tests) moved before ``forward``; a text cell to the end."""
    block = [_take(nb, gid) for gid in ("grad_W_closed_form", "test_grad_W_closed_form",
                                        "grad_x_closed_form", "test_grad_x_closed_form")]
    at = _index(nb, "forward")
    nb.cells[at:at] = block
    nb.cells.append(_take(nb, "text_03"))


def types_changed(nb, release):
    """A test cell made markdown, an answer cell raw, a locked text cell code."""
    test = nb.cells[_index(nb, "test_q1c")]
    test.cell_type = "markdown"
    del test["outputs"], test["execution_count"]
    answer = nb.cells[_index(nb, "q1e")]
    answer.cell_type = "raw"
    del answer["outputs"], answer["execution_count"]
    text = nb.cells[_index(nb, "text_04")]
    text.cell_type, text.outputs, text.execution_count = "code", [], None


def empty_and_null_metadata(nb, release):
    """Cells the student added carrying ``"nbgrader": {}`` and ``"nbgrader": null``."""
    at = _index(nb, "q2a")
    nb.cells.insert(at, nbformat.v4.new_code_cell("scratch = 1", metadata={"nbgrader": {}}))
    nb.cells.insert(at, nbformat.v4.new_code_cell("scratch2 = 2", metadata={"nbgrader": None}))


REARRANGED = {
    "pasted-from-another-notebook": ("03_l1_vectorization", pasted_from_another_notebook),
    "copied-twice": ("04_vector_backprop", copied_twice),
    "graded-cells-deleted": ("01_conv_arithmetic", graded_cells_deleted),
    "reordered": ("04_vector_backprop", reordered),
    "types-changed": ("01_conv_arithmetic", types_changed),
    "empty-and-null-metadata": ("02_kernel_of_truth", empty_and_null_metadata),
}

# -- decoys: what the rules read must be what ran ----------------------------------------------
WRONG_BUT_LOOP_FREE = {  # loop-free and wrong: if the rules read these, they see no loop
    name: f"def {name}(X_test, X_train):\n    return np.zeros((len(X_test), len(X_train)))\n"
    for name in ("compute_distances_one_loop", "compute_distances_no_loops")}
CLEAN_NO_LOOPS = ("def compute_distances_no_loops(X_test, X_train):\n"
                  "    a = np.asarray(X_test, dtype=np.float64)\n"
                  "    b = np.asarray(X_train, dtype=np.float64)\n"
                  "    return np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)\n")


def _with_two_loops_everywhere(nb):
    for name in ("compute_distances_one_loop", "compute_distances_no_loops"):
        nb.cells[_index(nb, name)].source = TWO_LOOPS.replace("compute_distances_two_loops", name)


def decoy_skip_execution(nb, release):
    """Two-loop answers; loop-free decoys in cells tagged ``skip-execution``."""
    _with_two_loops_everywhere(nb)
    for name, code in WRONG_BUT_LOOP_FREE.items():
        nb.cells.insert(_index(nb, f"test_{name}"),
                        nbformat.v4.new_code_cell(code, metadata={"tags": ["skip-execution"]}))


def decoy_after_death(nb, release):
    """Two-loop answers; the kernel exits at the end, then clean loop-free versions follow."""
    _with_two_loops_everywhere(nb)
    nb.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(0)"))
    nb.cells.append(nbformat.v4.new_code_cell(CLEAN_NO_LOOPS))
    nb.cells.append(nbformat.v4.new_code_cell(
        CLEAN_NO_LOOPS.replace("compute_distances_no_loops", "compute_distances_one_loop")))


def decoy_grading_skip(nb, release):
    """Two-loop answers; loop-free decoys tagged as the release's display-only cells are."""
    _with_two_loops_everywhere(nb)
    for name, code in WRONG_BUT_LOOP_FREE.items():
        nb.cells.insert(_index(nb, f"test_{name}"),
                        nbformat.v4.new_code_cell(code, metadata={"tags": ["grading-skip"]}))


DECOYS = {"decoy-skip-execution": decoy_skip_execution, "decoy-after-death": decoy_after_death,
          "decoy-grading-skip": decoy_grading_skip}

# -- ordinary notebook habits cost nothing -----------------------------------------------------


def _add_cells_after(nb, gid: str, *sources: str) -> None:
    at = _index(nb, gid) + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell(src) for src in sources]


def help_and_autoreload(nb, release):
    """A CS231n habit and a help lookup, in cells the student added."""
    _add_cells_after(nb, "imports", "%load_ext autoreload\n%autoreload 2", "np.abs?")


def debug_print_to_stderr(nb, release):
    """A correct conv2d that prints a debug line to stderr."""
    cell = nb.cells[_index(nb, "conv2d")]
    cell.source = "import sys\n" + cell.source.replace(
        "    return out", "    print('conv2d out', out.shape, file=sys.stderr)\n    return out")


def conv2d_in_float32(nb, release):
    """A correct conv2d that computes in float32."""
    cell = nb.cells[_index(nb, "conv2d")]
    cell.source = cell.source.replace("dtype=float", "dtype=np.float32")


HABITS = {
    "help-and-autoreload": ("03_l1_vectorization", help_and_autoreload),
    "debug-print-to-stderr": ("02_kernel_of_truth", debug_print_to_stderr),
    "conv2d-in-float32": ("02_kernel_of_truth", conv2d_in_float32),
}
HONEST_DECOY_SCORES = {"test_compute_distances_two_loops": 3.0,
                       "test_compute_distances_one_loop": 0.0,
                       "test_compute_distances_no_loops": 0.0}


def _notebook_of(student: str) -> str:
    return {**REARRANGED, **HABITS}.get(student, ("03_l1_vectorization",))[0]


def _build(root: Path) -> None:
    course = BuiltCourse.create(root / "course", secret=TEST_COURSE_SECRET)
    edits = {**{s: e for s, (_, e) in {**REARRANGED, **HABITS}.items()}, **DECOYS}
    for student, edit in edits.items():
        path = course.submit(student, _notebook_of(student))
        nb = nbformat.read(path, as_version=4)
        edit(nb, course.release_notebook)
        nbformat.write(nb, path)
    results = {}
    grade_class(Course(course.root, ASSIGNMENT),
                Options(workers=2, progress=False, feedback=False, force=True))
    results["class-command"] = _results(course, edits)
    results["class-command-issues"] = json.loads(
        (course.root / ".autograder" / ASSIGNMENT / "state.json").read_text())["students"]
    results["nbgrader-autograde-log"] = course.autograde()
    results["nbgrader-autograde"] = _results(course, edits)
    _autograde_with_formgrader(course, sorted(edits))
    results["formgrader"] = _results(course, edits)
    (root / "results.json").write_text(json.dumps(results))


def _autograde_with_formgrader(course: BuiltCourse, students) -> None:
    """What formgrader's Autograde button runs: ``NbGraderAPI.autograde``, in this process."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    cfg = Course(course.root, ASSIGNMENT).config
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    for student in students:
        outcome = api.autograde(ASSIGNMENT, student)
        assert outcome["success"], outcome.get("error")


def _results(course: BuiltCourse, students) -> dict:
    """student -> {"scores": autograded cell scores, "repairs": what the grader repaired}."""
    out = {}
    for student in students:
        notebook = _notebook_of(student)
        graded = course.autograded(student, notebook)
        display_only = [c for c in graded.cells if "grading-skip" in c.metadata.get("tags", [])]
        out[student] = {"scores": course.scores(student, notebook),
                        "repairs": graded.metadata.get(REPAIRS_KEY, []),
                        "display_only": [[o.get("text", "") for o in c.outputs] for c in display_only]}
    return out


@pytest.fixture(scope="module")
def results(build_once):
    return json.loads((build_once("grading-paths", _build) / "results.json").read_text())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("student", sorted(REARRANGED))
def test_rearranged_cells_cost_no_correct_answer_a_point(results, path, student):
    notebook = _notebook_of(student)
    assert results[path][student]["scores"] == graded_cells(notebook)


@pytest.mark.parametrize("student", sorted(REARRANGED))
def test_every_path_records_the_same_repairs(results, student):
    repairs = [results[path][student]["repairs"] for path in PATHS]
    assert repairs[0] == repairs[1] == repairs[2]


@pytest.mark.parametrize("student, phrase", [
    ("pasted-from-another-notebook", "'given_I_F', a cell this notebook does not have"),
    ("copied-twice", "a second copy of 'forward'"),
    ("graded-cells-deleted", "test_conv_output_size: missing, put back from the release"),
    ("types-changed", "test_q1c: cell type markdown restored to code"),
    ("reordered", None),
    ("empty-and-null-metadata", "malformed grading metadata removed"),
])
def test_the_repair_says_what_it_changed(results, student, phrase):
    repairs = results["class-command"][student]["repairs"]
    if phrase is None:  # moving cells changes no grading metadata: nothing to repair
        assert repairs == []
    else:
        assert any(phrase in line for line in repairs)


def test_the_class_command_lists_the_repairs_for_the_ta(results):
    issues = "\n".join(results["class-command-issues"]["copied-twice"]["issues"])
    assert "04_vector_backprop.ipynb: cells repaired" in issues
    assert "a second copy of 'forward'" in issues


def test_plain_nbgrader_autograde_logs_the_repairs(results):
    assert "a second copy of 'forward'" in results["nbgrader-autograde-log"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("student", sorted(DECOYS))
def test_rules_judge_only_the_code_that_ran(results, path, student):
    assert results[path][student]["scores"] == HONEST_DECOY_SCORES




@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("student", sorted(HABITS))
def test_ordinary_notebook_habits_cost_no_point(results, path, student):
    assert results[path][student]["scores"] == graded_cells(_notebook_of(student))


@pytest.mark.parametrize("path", PATHS)
def test_display_only_cells_are_not_run_when_grading_and_say_so(results, path):
    shown = results[path]["pasted-from-another-notebook"]["display_only"]  # notebook 3
    assert shown == [[SandboxedExecute.display_only_note.default_value]]  # the speed plot


@pytest.mark.parametrize("tag", ["skip-execution", "grading-skip"])
def test_a_student_cannot_tag_a_cell_out_of_running(results, tag):
    repairs = results["class-command"][f"decoy-{tag}"]["repairs"]
    assert any(f"execution tags ['{tag}'] removed" in line for line in repairs)
