"""RepairGradingMetadata on its own: a submission's cells against the release (no kernel)."""
from __future__ import annotations

import copy

import nbformat
import pytest
from nbgrader.preprocessors import CheckCellMetadata
from traitlets.config import Config

from autograder.build import REPO
from autograder.repair import REPAIRS_KEY, RepairError, RepairGradingMetadata

RELEASE = REPO / "release" / "section03"


def _release(notebook: str):
    return nbformat.read(RELEASE / f"{notebook}.ipynb", as_version=4)


def _repair(nb, notebook: str):
    cfg = Config()
    cfg.CourseDirectory.root = str(REPO)
    cfg.CourseDirectory.release_directory = "release"
    resources = {"nbgrader": {"assignment": "section03", "notebook": notebook}}
    nb, _ = RepairGradingMetadata(config=cfg).preprocess(nb, resources)
    return nb


def _ids(nb):
    return [(c.metadata.get("nbgrader") or {}).get("grade_id") for c in nb.cells]


def _cell(nb, gid):
    return next(c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") == gid)


def test_the_release_itself_needs_no_repair():
    for path in sorted(RELEASE.glob("*.ipynb")):
        nb = _repair(_release(path.stem), path.stem)
        assert nb.metadata[REPAIRS_KEY] == []


def test_a_cell_pasted_from_another_notebook_becomes_a_cell_the_student_added():
    nb = _release("03_l1_vectorization")
    pasted = copy.deepcopy(_cell(_release("02_kernel_of_truth"), "given_I_F"))
    nb.cells.insert(3, pasted)
    nb = _repair(nb, "03_l1_vectorization")
    assert "nbgrader" not in nb.cells[3].metadata
    assert nb.cells[3].source == pasted.source


def test_a_second_copy_of_a_cell_leaves_the_later_copy_graded():
    nb = _release("04_vector_backprop")
    copy_of_test = copy.deepcopy(_cell(nb, "test_forward"))
    nb.cells.append(copy_of_test)
    nb = _repair(nb, "04_vector_backprop")
    assert _ids(nb).count("test_forward") == 1
    assert _ids(nb)[-1] == "test_forward"


@pytest.mark.parametrize("metadata", [{}, None, [], "grade", {"grade_id": 7, "grade": True}])
def test_malformed_grading_metadata_is_removed(metadata):
    nb = _release("04_vector_backprop")
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": metadata}))
    nb = _repair(nb, "04_vector_backprop")
    assert "nbgrader" not in nb.cells[-1].metadata
    assert any("malformed grading metadata removed" in r for r in nb.metadata[REPAIRS_KEY])


def test_flags_and_points_of_a_known_cell_come_back_from_the_release():
    nb = _release("01_conv_arithmetic")
    md = _cell(nb, "test_q1c").metadata.nbgrader
    md.update(grade=False, locked=False, points=100, solution=True)
    nb = _repair(nb, "01_conv_arithmetic")
    md = _cell(nb, "test_q1c").metadata.nbgrader
    assert (md["grade"], md["locked"], md["points"], md["solution"]) == (True, True, 1, False)


def test_a_changed_cell_type_is_restored():
    nb = _release("01_conv_arithmetic")
    cell = _cell(nb, "test_q1c")
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    nb = _repair(nb, "01_conv_arithmetic")
    assert _cell(nb, "test_q1c").cell_type == "code"
    nbformat.validate(nb)


@pytest.mark.parametrize("tag", ["skip-execution", "raises-exception", "grading-skip"])
def test_a_student_cannot_tag_a_cell_out_of_running(tag):
    nb = _release("03_l1_vectorization")
    _cell(nb, "compute_distances_no_loops").metadata["tags"] = [tag, "mine"]
    _cell(nb, "test_compute_distances_no_loops").metadata["tags"] = [tag]
    nb.cells.append(nbformat.v4.new_code_cell("pass", metadata={"tags": [tag]}))
    nb = _repair(nb, "03_l1_vectorization")
    assert _cell(nb, "compute_distances_no_loops").metadata["tags"] == ["mine"]
    assert "tags" not in _cell(nb, "test_compute_distances_no_loops").metadata
    assert "tags" not in nb.cells[-1].metadata


def test_a_deleted_locked_cell_is_put_back_where_it_was():
    nb = _release("01_conv_arithmetic")
    want = _ids(nb)
    nb.cells = [c for c in nb.cells
                if _ids(nbformat.v4.new_notebook(cells=[c]))[0] not in ("text_08", "q1d", "test_q1b")]
    nb = _repair(nb, "01_conv_arithmetic")
    assert _ids(nb) == want


def test_a_deleted_answer_cell_is_not_put_back():
    nb = _release("02_kernel_of_truth")
    nb.cells = [c for c in nb.cells if (c.metadata.get("nbgrader") or {}).get("grade_id") != "conv2d"]
    nb = _repair(nb, "02_kernel_of_truth")
    assert "conv2d" not in _ids(nb)


def test_a_repaired_notebook_passes_nbgraders_metadata_check():
    nb = _release("02_kernel_of_truth")
    nb.cells.insert(0, copy.deepcopy(_cell(_release("01_conv_arithmetic"), "test_q1c")))
    nb.cells.append(copy.deepcopy(_cell(nb, "q2a")))
    nb.cells.append(nbformat.v4.new_code_cell("y = 2", metadata={"nbgrader": None}))
    nb = _repair(nb, "02_kernel_of_truth")
    CheckCellMetadata().preprocess(nb, {})


def test_a_course_without_its_release_says_how_to_make_it(tmp_path):
    cfg = Config()
    cfg.CourseDirectory.root = str(tmp_path)
    resources = {"nbgrader": {"assignment": "section03", "notebook": "01_conv_arithmetic"}}
    with pytest.raises(RepairError, match="generate_assignment"):
        RepairGradingMetadata(config=cfg).preprocess(_release("01_conv_arithmetic"), resources)
