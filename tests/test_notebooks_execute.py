"""Every notebook of source/ runs top to bottom without error; the committed answer key holds no
error output (the fresh build in test_generated.py executes it again with nbgrader)."""
import nbformat
import pytest
from nbclient import NotebookClient

from autograder.build import REPO

SOURCE = sorted((REPO / "source" / "section03").glob("*.ipynb"))
ANSWER_KEY = sorted((REPO / "notebooks" / "section03").glob("*.ipynb"))


@pytest.mark.nbgrader
@pytest.mark.parametrize("path", SOURCE, ids=lambda p: p.stem)
def test_source_notebook_runs_top_to_bottom_with_its_hidden_tests(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


@pytest.mark.parametrize("path", ANSWER_KEY, ids=lambda p: p.stem)
def test_answer_key_was_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "answer key is not fully executed"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, [(e.ename, e.evalue) for e in errors]


def test_answer_key_shows_the_sliding_filter_animations():
    nb = nbformat.read(REPO / "notebooks" / "section03" / "02_kernel_of_truth.ipynb", as_version=4)
    html = [o.data["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "data" in o and "text/html" in o.data]
    assert len([h for h in html if "<img" in h or "animation" in h.lower()]) >= 3
