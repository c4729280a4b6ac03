"""Fair grades: every rule the grader enforces is stated where the student writes, and one
mistake costs points in its own cell only (real `nbgrader autograde` on section03)."""
from __future__ import annotations

import re

import nbformat
import pytest

from autograder.build import REPO
from helpers import rules
from autograder.coursebuild import ASSIGNMENT, NOTEBOOKS, graded_cells

SOURCE = REPO / "source" / ASSIGNMENT


def _text_before(notebook: str, answer: str) -> str:
    """The notebook's intro plus the markdown between the previous test cell and ``answer``'s cell."""
    nb = nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4)
    intro, since = nb.cells[0].source, []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if gid.startswith("test_") or gid.startswith("selfcheck_"):
            since = []
        elif cell.cell_type == "markdown":
            since.append(cell.source)
        if gid == answer:
            return intro + "\n" + "\n".join(since)
    raise KeyError(answer)


def _plain(text: str) -> str:
    return re.sub(r"[`*]", "", text)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_plain_code_rule_is_stated_in_every_notebook(notebook):
    intro = _plain(nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4).cells[0].source)
    for word in ("plain code", "exec", "eval", "__import__", "globals()", "getattr", "sys.modules",
                 "__class__", "get_ipython", "%time", "helpers"):
        assert word in intro, (notebook, word)


def test_every_loop_rule_and_looping_call_is_stated_before_problem_3s_code():
    # the task's rules block sits right above the three functions (one test cell after each)
    text = _plain(_text_before("03_l1_vectorization", "compute_distances_two_loops"))
    for word in ("two nested", "exactly one loop", "no loop", "comprehension", "recursion",
                 "key=", "iter(", "numpy only", "uint8", "unchanged", "top level"):
        assert word in text, word
    for call in rules.LOOP_CALLS - {"reduce", "accumulate", "starmap"}:  # those need an import numpy only forbids
        assert call in text, call


@pytest.mark.parametrize("notebook, answer", [
    ("01_conv_arithmetic", "conv_output_size"), ("01_conv_arithmetic", "conv_output_shape"),
    ("01_conv_arithmetic", "pool_output_shape"), ("02_kernel_of_truth", "conv2d"),
    ("02_kernel_of_truth", "max_pool2d"),
])
def test_value_error_with_a_message_is_stated_before_each_function_that_must_raise(notebook, answer):
    text = _plain(_text_before(notebook, answer))
    assert "ValueError" in text and "message" in text


@pytest.mark.parametrize("answer", ["conv2d", "max_pool2d"])
def test_unchanged_inputs_are_stated_for_problem_2s_functions(answer):
    assert "unchanged" in _plain(_text_before("02_kernel_of_truth", answer))


# -- one mistake, one penalty (end to end) -----------------------------------------------------

WRONG = {
    "q2a": "q2a = [[0, 0, 0], [0, 0, 0], [0, 0, 0]]\n",
    "q2b": "q2b = [[1, 1], [1, 1]]\n",   # forgot the padding: also the wrong shape
    "q2c": "q2c = [[4, 4], [1, 4]]\n",
    "q4_f": "q4_f = 1.0\n",
    "q4_dW": "q4_dW = [[0, 0], [0, 0]]\n",
    "q4_dx": "q4_dx = [0, 0]\n",
    "conv_output_size": ("def conv_output_size(n, F, S=1, P=0):\n"
                         "    if min(n, F, S) < 1 or P < 0 or F > n + 2 * P or (n - F + 2 * P) % S:\n"
                         "        raise ValueError('invalid configuration')\n"
                         "    return (n - F + 2 * P) // S\n"),   # forgot + 1
    "forward": "def forward(W, x):\n    raise NotImplementedError()\n",
    "backward": ("def backward(cache, df=1.0):\n    W, x, q = cache\n    dq = 2 * q * df\n"
                 "    return np.outer(x, dq), W.T @ dq\n"),   # transposed dW
}
NOTEBOOK_OF = {"q2a": "02_kernel_of_truth", "q2b": "02_kernel_of_truth", "q2c": "02_kernel_of_truth",
               "q4_f": "04_vector_backprop", "q4_dW": "04_vector_backprop", "q4_dx": "04_vector_backprop",
               "conv_output_size": "01_conv_arithmetic", "forward": "04_vector_backprop",
               "backward": "04_vector_backprop"}


@pytest.fixture(scope="module")
def graded(section03_course):
    course = section03_course("fair")
    for answer, code in WRONG.items():
        course.submit(f"only-{answer.replace('_', '-')}", NOTEBOOK_OF[answer], {answer: code})
    course.submit("skips-hand-answers", "02_kernel_of_truth", {g: "" for g in ("q2a", "q2b", "q2c")})
    course.autograde()
    return course


@pytest.mark.nbgrader
@pytest.mark.parametrize("answer", sorted(WRONG))
def test_an_upstream_mistake_costs_points_in_its_own_cell_only(graded, answer):
    notebook = NOTEBOOK_OF[answer]
    scores = graded.scores(f"only-{answer.replace('_', '-')}", notebook)
    full = graded_cells(notebook)
    lost = {cell for cell, score in scores.items() if score < full[cell]}
    assert lost == {f"test_{answer}"}


@pytest.mark.nbgrader
def test_skipping_the_hand_answers_costs_only_the_hand_answers(graded):
    scores = graded.scores("skips-hand-answers", "02_kernel_of_truth")
    full = graded_cells("02_kernel_of_truth")
    assert {c for c, s in scores.items() if s < full[c]} == {"test_q2a", "test_q2b", "test_q2c"}


@pytest.mark.nbgrader
def test_check_yourself_cells_say_in_a_sentence_that_a_hand_answer_disagrees(graded):
    nb = graded.autograded("only-q2a", "02_kernel_of_truth")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "selfcheck_conv2d")
    text = "".join(o.get("text", "") for o in cell.outputs)
    assert "disagree" in text and not any(o.output_type == "error" for o in cell.outputs)
