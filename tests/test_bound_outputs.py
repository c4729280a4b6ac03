"""BoundOutputs on its own: outputs bounded in bytes, what decides a grade kept."""
from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.execute import BoundOutputs


def _bound(cells, **limits):
    nb = new_notebook(cells=cells)
    BoundOutputs(**limits).preprocess(nb, {})
    return nb


def _size(nb) -> int:
    return len(nbformat.writes(nb))


def _cell(*outputs):
    return new_code_cell("pass", outputs=list(outputs))


def test_small_outputs_are_kept_as_they_are():
    outputs = [new_output("stream", name="stdout", text="hello\n"),
               new_output("display_data", data={"text/plain": "42"})]
    nb = _bound([_cell(*outputs)])
    assert nb.cells[0].outputs == outputs


def test_outputs_past_the_cell_limit_are_replaced_by_a_note():
    nb = _bound([_cell(*[new_output("stream", name="stdout", text="x" * 1000)] * 50)],
                max_cell_bytes=10_000)
    texts = [o.text for o in nb.cells[0].outputs]
    assert "left out by the autograder" in texts[-1]
    assert 8 <= len(texts) - 1 <= 10  # about 10,000 bytes of the 50 outputs of 1,000


def test_many_cells_together_stay_within_the_notebook_limit():
    cells = [_cell(new_output("stream", name="stdout", text="x" * 900_000)) for _ in range(40)]
    nb = _bound(cells, max_cell_bytes=1_000_000, max_notebook_bytes=3_000_000)
    assert _size(nb) < 3_500_000


def test_one_value_shared_by_many_outputs_counts_once_per_output():
    shared = {"text/plain": "y" * 500_000}  # what a display update leaves in every output of its id
    cells = [_cell(new_output("display_data", data=shared)) for _ in range(60)]
    nb = _bound(cells, max_notebook_bytes=2_000_000)
    assert _size(nb) < 2_500_000


def test_an_error_output_survives_past_the_limit_shortened():
    cells = [_cell(new_output("stream", name="stdout", text="x" * 5000)),
             _cell(new_output("error", ename="AssertionError", evalue="e" * 100_000,
                              traceback=["t" * 100_000] * 3))]
    nb = _bound(cells, max_notebook_bytes=5000, max_error_chars=1000)
    error = nb.cells[1].outputs[0]
    assert error.output_type == "error" and error.ename == "AssertionError"
    assert len(json.dumps(error)) < 3000


def test_stderr_past_the_limit_leaves_a_line_of_stderr():
    cells = [_cell(new_output("stream", name="stdout", text="x" * 5000)),
             _cell(new_output("stream", name="stderr", text="warning " * 10_000))]
    nb = _bound(cells, max_notebook_bytes=5000)
    assert [o.name for o in nb.cells[1].outputs if o.output_type == "stream"][0] == "stderr"


def _attached(size: int):
    from nbformat.v4 import new_markdown_cell

    cell = new_markdown_cell("My graph: ![g](attachment:g.png)")
    cell.attachments = {"g.png": {"image/png": "A" * size}}
    return cell


def test_a_pasted_image_within_the_limit_is_kept():
    nb = _bound([_attached(1000)], max_attachment_bytes=10_000)
    assert nb.cells[0].attachments["g.png"]["image/png"] == "A" * 1000


def test_attachments_past_the_notebook_limit_are_left_out_with_a_note():
    nb = _bound([_attached(6000), _attached(6000)], max_attachment_bytes=10_000)
    assert "attachments" in nb.cells[0] and "attachments" not in nb.cells[1]
    assert "left out of the graded copy" in nb.cells[1].source
    assert "your submitted notebook has them all" in nb.cells[1].source


def test_a_huge_written_answer_is_cut_with_a_note():
    from nbformat.v4 import new_markdown_cell

    nb = _bound([new_markdown_cell("word " * 100_000)], max_text_chars=1000)
    assert len(nb.cells[0].source) < 1500 and "characters of this cell" in nb.cells[0].source


def test_many_tiny_outputs_count_what_they_take_in_the_file():
    """24,000 one-character displays: each costs its JSON frame, not just its character."""
    cells = [_cell(*[new_output("display_data", data={"text/plain": str(i % 10)})
                     for i in range(3_000)]) for _ in range(8)]
    nb = _bound(cells, max_cell_bytes=20_000, max_notebook_bytes=80_000)
    assert _size(nb) < 80_000 + 10_000  # the notes and the cells themselves
