"""helpers.checks in-process: fair to every correct answer, specific about wrong ones.

The end-to-end versions of these promises (through real `nbgrader autograde`) are in
test_autograde_*.py; these run in milliseconds and pin down the rules one by one.
"""
import numpy as np
import pytest

from helpers import checks
from helpers.mistakes import CATALOGUE, define
from tests.section03_course import NOTEBOOKS, solution_sources

SOLUTIONS = {gid: src for nb in NOTEBOOKS for gid, src in solution_sources(nb).items()}


def _solution(name):
    """The answer key's ``name``, defined after the answers above it in its notebook, as when run."""
    notebook = next(nb for nb in NOTEBOOKS if name in solution_sources(nb))
    namespace = {}
    for gid, source in solution_sources(notebook).items():
        define(source, gid, f"<solution {gid}>", namespace)
        if gid == name:
            return namespace[name]


def _fails(name, *answers) -> str:
    with pytest.raises(checks.CheckFailed) as info:
        checks.check(name, *answers)
    return str(info.value)


@pytest.mark.parametrize("name", checks.GRADED_NAMES)
def test_answer_key_passes(name):
    answers = (_solution(name), _solution("forward")) if name == "backward" else (_solution(name),)
    checks.check(name, *answers)


def test_every_graded_name_of_the_notebooks_has_a_check():
    assert set(SOLUTIONS) == set(checks.GRADED_NAMES)


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: f"{m.answer}-{m.slug}")
def test_catalogued_mistake_fails_and_is_named(mistake):
    assert f"[mistake: {mistake.slug}]" in _fails(mistake.answer, mistake.build())


def test_failure_renders_without_a_traceback_into_helpers():
    try:
        checks.check("q1e", 1)
    except checks.CheckFailed as exc:
        rendered = "\n".join(exc._render_traceback_())
    assert "q1e" in rendered and "checks.py" not in rendered and "File " not in rendered


def test_hand_answer_failure_does_not_reveal_the_answer():
    assert "34944" not in _fails("q1e", 34848)


def test_object_that_equals_everything_gains_nothing():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    for name in ("q1c", "q1e", "q2a", "q4_f", "q1b"):
        _fails(name, AlwaysEqual())
    _fails("conv2d", lambda x, w, stride=1, padding=0: AlwaysEqual())


@pytest.mark.parametrize("value", [0.11600000000000002, np.float64(0.116), np.float32(0.116), 0.116])
def test_hand_answers_accept_rounding_and_numpy_scalars(value):
    checks.check("q4_f", value)


def test_hand_answers_accept_lists_tuples_and_arrays():
    checks.check("q2c", [[4, 4], [0, 4]])
    checks.check("q2c", ((4.0, 4.0), (0.0, 4.0)))
    checks.check("q2c", np.array([[4, 4], [0, 4]], dtype=np.int8))


def test_untouched_stub_says_it_is_not_answered_yet():
    def conv2d(x, w, stride=1, padding=0):
        raise NotImplementedError()

    assert "not answered yet" in _fails("conv2d", conv2d)


def test_function_returning_none_says_so():
    assert "None" in _fails("conv_param_count", lambda F, C, K: None)


def test_student_warnings_do_not_reach_stderr(capfd):
    def compute_distances_no_loops(X_test, X_train):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero -- harmless here
        return np.abs(X_test[:, None, :].astype(float) - X_train[None, :, :]).sum(axis=2)

    checks.check("compute_distances_no_loops", define(
        "def compute_distances_no_loops(X_test, X_train):\n"
        "    np.log(np.zeros(1))\n"
        "    return np.abs(X_test[:, None, :].astype(float) - X_train[None, :, :]).sum(axis=2)\n",
        "compute_distances_no_loops", "<warns>"))
    assert capfd.readouterr().err == ""


def test_invalid_configuration_must_raise_value_error_with_a_message():
    code = ("def conv_output_size(n, F, S=1, P=0):\n"
            "    if min(n, F, S) < 1 or P < 0 or F > n + 2 * P or (n - F + 2 * P) % S:\n"
            "        raise ValueError()\n"
            "    return (n - F + 2 * P) // S + 1\n")
    assert "without a message" in _fails("conv_output_size", define(code, "conv_output_size", "<nomsg>"))


# ------------------------------------------------------------------ loop rules of problem 3

NO_LOOP_HEAD = "def compute_distances_no_loops(X_test, X_train):\n"


@pytest.mark.parametrize("body, why", [
    ("    return np.array([np.abs(X_train.astype(float) - r).sum(1) for r in X_test])\n", "loop"),
    ("    f = np.vectorize(lambda a, b: abs(float(a) - float(b)))\n"
     "    return f(X_test[:, None, :], X_train[None]).sum(2)\n", "vectorize"),
    ("    return np.array(list(map(lambda r: np.abs(X_train.astype(float) - r).sum(1), X_test)))\n", "map"),
    ("    out = np.zeros((len(X_test), len(X_train)))\n    i = 0\n    while i < len(X_test):\n"
     "        out[i] = np.abs(X_train.astype(float) - X_test[i]).sum(1)\n        i += 1\n    return out\n", "loop"),
])
def test_no_loops_version_rejects_every_kind_of_loop(body, why):
    fn = define(NO_LOOP_HEAD + body, "compute_distances_no_loops", f"<loop {why}>")
    assert why in _fails("compute_distances_no_loops", fn)


def test_loops_hidden_in_a_helper_function_count():
    code = ("def row_distances(row, X_train):\n"
            "    return np.array([np.abs(X_train[j].astype(float) - row).sum() for j in range(len(X_train))])\n\n"
            + NO_LOOP_HEAD + "    return np.stack([row_distances(r, X_train) for r in X_test])\n")
    assert "[mistake: loop-in-no-loops]" in _fails("compute_distances_no_loops",
                                                  define(code, "compute_distances_no_loops", "<helper loop>"))


def test_one_loop_version_accepts_exactly_one_loop_in_any_direction():
    code = ("def compute_distances_one_loop(X_test, X_train):\n"
            "    dists = np.zeros((X_test.shape[0], X_train.shape[0]))\n"
            "    for j in range(X_train.shape[0]):\n"
            "        dists[:, j] = np.abs(X_test.astype(float) - X_train[j]).sum(axis=1)\n"
            "    return dists\n")
    checks.check("compute_distances_one_loop", define(code, "compute_distances_one_loop", "<one loop>"))


def test_numpy_only_rule_names_the_library_used():
    code = ("from scipy.spatial.distance import cdist\n\n" + NO_LOOP_HEAD +
            "    return cdist(X_test, X_train, 'cityblock')\n")
    message = _fails("compute_distances_no_loops", define(code, "compute_distances_no_loops", "<scipy>"))
    assert "scipy" in message and "[mistake: not-numpy-only]" in message


def test_answers_may_not_call_the_course_helpers():
    code = ("from helpers.sliding import conv_result\n\n"
            "def conv2d(x, w, stride=1, padding=0):\n    return conv_result(x, w, stride, padding)\n")
    assert "helpers" in _fails("conv2d", define(code, "conv2d", "<uses helpers>"))


def test_backward_is_checked_on_the_students_own_forward_cache():
    forward = define("def forward(W, x):\n    q = W @ x\n    return q @ q, {'q': q, 'W': W, 'x': x}\n",
                     "forward", "<dict cache>")
    backward = define("def backward(cache, df=1.0):\n    dq = 2 * cache['q'] * df\n"
                      "    return np.outer(dq, cache['x']), cache['W'].T @ dq\n", "backward", "<dict backward>")
    checks.check("backward", backward, forward)
