"""AddAnswerKeyPictures on small notebooks: where the answer key's pictures land in feedback.

(The end-to-end path, real feedback of section03, is in test_feedback_page.py.)
"""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from traitlets.config import Config

from autograder.preprocessors import AddAnswerKeyPictures


def cell(grade_id=None, source="", tags=(), code=False):
    make = new_code_cell if code else new_markdown_cell
    c = make(source or grade_id or "student's own")
    if grade_id:
        c.metadata["nbgrader"] = {"grade_id": grade_id, "locked": True, "schema_version": 3}
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def feedback_of(tmp_path, key_cells, release_cells, student_cells):
    """The student's notebook after AddAnswerKeyPictures, with this key and release."""
    for folder, cells in (("notebooks", key_cells), ("release", release_cells)):
        (tmp_path / folder / "hw").mkdir(parents=True, exist_ok=True)
        nbformat.write(new_notebook(cells=cells), tmp_path / folder / "hw" / "nb.ipynb")
    cfg = Config()
    cfg.CourseDirectory.root = str(tmp_path)
    cfg.CourseDirectory.solution_directory = "notebooks"
    pre = AddAnswerKeyPictures(config=cfg)
    nb, _ = pre.preprocess(new_notebook(cells=student_cells),
                           {"nbgrader": {"assignment": "hw", "notebook": "nb"}})
    return nb


def run(tmp_path, key_cells, release_cells, student_cells):
    """The sources of the student's cells after AddAnswerKeyPictures."""
    return [c.source for c in feedback_of(tmp_path, key_cells, release_cells, student_cells).cells]


KEY = [cell("q1"), cell("test_q1"), cell("viz_q1", tags=["answer-key-only"], code=True), cell("q2")]
KEY[2].execution_count = 9
RELEASE = [cell("q1"), cell("test_q1"), cell("example", tags=["release-only"]), cell("q2")]


def test_the_pictures_follow_the_worked_example_that_stands_in_for_them(tmp_path):
    out = run(tmp_path, KEY, RELEASE, [cell("q1"), cell("test_q1"),
                                       cell("example", tags=["release-only"]), cell("q2")])
    assert out[:3] == ["q1", "test_q1", "example"]
    assert out[3].startswith("**From the answer key**") and out[4:] == ["viz_q1", "q2"]


def test_a_students_own_cell_among_the_examples_does_not_stop_them_short(tmp_path):
    out = run(tmp_path, KEY, RELEASE, [cell("q1"), cell("test_q1"), cell(source="mine"),
                                       cell("example", tags=["release-only"]), cell("q2")])
    assert out.index("example") < out.index("viz_q1") < out.index("q2")


def test_a_tag_the_student_added_is_not_a_worked_example(tmp_path):
    out = run(tmp_path, KEY, RELEASE, [cell("q1"), cell("test_q1"), cell("q2"),
                                       cell("fake", tags=["release-only"])])
    assert out.index("viz_q1") < out.index("q2") < out.index("fake")


def test_pictures_at_the_top_of_the_key_go_to_the_top(tmp_path):
    key = [cell("intro_pic", tags=["answer-key-only"]), *KEY]
    out = run(tmp_path, key, RELEASE, [cell(source="mine"), cell("q1"), cell("test_q1")])
    assert out[1] == "intro_pic" and out[0].startswith("**From the answer key**")


def test_a_missing_anchor_leaves_those_pictures_out(tmp_path):
    out = run(tmp_path, KEY, RELEASE, [cell("q1"), cell("q2")])
    assert "viz_q1" not in out and out == ["q1", "q2"]


def test_copied_cells_carry_no_grading_metadata(tmp_path):
    nb = feedback_of(tmp_path, KEY, RELEASE, [cell("q1"), cell("test_q1"), cell("q2")])
    copied = [c for c in nb.cells if c.metadata.get("autograder", {}).get("from_answer_key")]
    assert len(copied) == 2 and not any("nbgrader" in c.metadata for c in copied)
    assert copied[1].execution_count is None  # the key's prompt number is not this notebook's
