"""helpers.checks through the request/reply path, in-process: fair to every correct answer,
specific about wrong ones.

Each test defines answers as a notebook would, asks for them exactly as the grader asks a
kernel (kernel_side -> printed JSON -> wire.decode) and judges the plain data. The
end-to-end versions of these promises (real `nbgrader autograde`, sandboxed kernels) are
in test_autograde_*.py and test_hostile_submissions.py.
"""
import numpy as np
import pytest

from helpers import checks
from helpers.mistakes import CATALOGUE
from helpers.rules import Cell
from tests.answer_harness import grade, namespace_of, value
from autograder.coursebuild import NOTEBOOKS, solution_sources

SOLUTIONS = {gid: (nb, src) for nb in NOTEBOOKS for gid, src in solution_sources(code_only=True)[nb].items()}


def _grade_notebook(name, replace=None):
    """Grade ``name`` in its notebook: the answer key with the cells in ``replace`` swapped in."""
    notebook = SOLUTIONS[name][0]
    sources = dict(solution_sources(code_only=True)[notebook])
    sources.update(replace or {})
    cells = [Cell(src, True, gid) for gid, src in sources.items()]
    return grade(name, namespace_of(*sources.items()), cells)


def _fails(name, replace=None) -> str:
    failure = _grade_notebook(name, replace)
    assert failure is not None, f"{name} should have failed"
    return failure.render(name)


def _fails_value(name, answer) -> str:
    failure = grade(name, value(name, answer))
    assert failure is not None, f"{name} = {answer!r} should have failed"
    return failure.render(name)


@pytest.mark.parametrize("name", checks.GRADED_NAMES)
def test_answer_key_passes(name):
    assert _grade_notebook(name) is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_answer_key_passes_on_every_students_random_inputs(seed):
    for name in checks.GRADED_NAMES:
        notebook = SOLUTIONS[name][0]
        sources = solution_sources(code_only=True)[notebook]
        cells = [Cell(src, True, gid) for gid, src in sources.items()]
        assert grade(name, namespace_of(*sources.items()), cells, seed=seed) is None, name


def test_every_graded_name_of_the_notebooks_has_a_check():
    assert set(SOLUTIONS) == set(checks.GRADED_NAMES)


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: f"{m.answer}-{m.slug}")
def test_catalogued_mistake_fails_and_is_named(mistake):
    assert f"[mistake: {mistake.slug}]" in _fails(mistake.answer, {mistake.answer: mistake.code})


def test_hand_answer_failure_does_not_reveal_the_answer():
    assert "34944" not in _fails_value("q1e", 34848)


# A conv2d right on the handout's I and F (stride 1 and 2) and wrong on every other input.
_CONV2D_RIGHT_ON_THE_HANDOUT_ONLY = SOLUTIONS["conv2d"][1].replace(
    "def conv2d(", "def _conv2d(", 1) + """
def conv2d(x, w, stride=1, padding=0):
    out = _conv2d(x, w, stride, padding)
    return out if np.shape(x) == (4, 4) else out + 1.0
"""


def test_a_failing_hidden_case_shows_neither_its_inputs_nor_the_expected_result():
    message = _fails("conv2d", {"conv2d": _CONV2D_RIGHT_ON_THE_HANDOUT_ONLY})
    assert "hidden test case" in message and checks.HIDDEN_NOTE in message
    assert "array of shape" not in message, "the hidden input's description is shown"
    said = message.replace(checks.HIDDEN_NOTE, "").replace("the expected", "")
    assert "expected" not in said and "e.g. at index" not in said, "the expected result is shown"


def test_a_hidden_size_case_does_not_show_its_numbers():
    source = SOLUTIONS["conv_output_size"][1].replace("def conv_output_size(", "def _size(", 1) + (
        "\ndef conv_output_size(n, F, S, P):\n    return 0 if n == 1 else _size(n, F, S, P)\n")
    message = _fails("conv_output_size", {"conv_output_size": source})
    assert "(1, 1, 1, 0)" not in message and "expected 1" not in message
    assert "returned an int, not the expected result" in message


def test_a_hidden_invalid_configuration_does_not_show_the_references_reason():
    # right on the handout's cases; a filter larger than the padded input gives a size
    source = SOLUTIONS["conv_output_size"][1].replace("def conv_output_size(", "def _size(", 1) + (
        "\ndef conv_output_size(n, F, S, P):\n    return 1 if F > n + 2 * P else _size(n, F, S, P)\n")
    message = _fails("conv_output_size", {"conv_output_size": source})
    assert "the configuration is invalid" in message and "does not fit" not in message


@pytest.mark.parametrize("raising, leaked, named", [
    ("raise ValueError('LEAK' + repr((np.shape(x), stride, padding)))", "LEAK", "ValueError"),
    ("raise type('Shape_' + '_'.join(map(str, np.shape(x))), (IndexError,), {})()", "Shape_", "IndexError"),
], ids=["its-message", "its-own-class-name"])
def test_a_hidden_case_never_quotes_the_exception_the_students_function_raised(raising, leaked, named):
    # the function sees the hidden inputs: its message or class name could carry them out
    leaky = _CONV2D_RIGHT_ON_THE_HANDOUT_ONLY.replace(
        "return out if np.shape(x) == (4, 4) else out + 1.0",
        f"if np.shape(x) == (4, 4):\n        return out\n    {raising}")
    message = _fails("conv2d", {"conv2d": leaky})
    assert leaked not in message and f"raised {named}" in message


def test_a_hidden_case_does_not_quote_a_returned_value():
    source = SOLUTIONS["conv_output_size"][1].replace("def conv_output_size(", "def _size(", 1) + (
        "\ndef conv_output_size(n, F, S, P):\n"
        "    return 'LEAK%d' % n if n == 1 else _size(n, F, S, P)\n")
    message = _fails("conv_output_size", {"conv_output_size": source})
    assert "LEAK" not in message and "returned a str" in message


def test_a_backward_with_an_unfinished_dx_is_marked_wrong_not_a_grader_crash():
    code = ("def backward(cache, df=1.0):\n    W, x, q = cache\n"
            "    return 2 * df * np.outer(q, x) + 1.0, None\n")
    message = _fails("backward", {"backward": code})
    assert "dW or dx is wrong" in message or "not right" in message


def test_a_failing_handout_case_shows_the_call_and_the_expected_result():
    wrong = _CONV2D_RIGHT_ON_THE_HANDOUT_ONLY.replace("np.shape(x) == (4, 4)", "np.shape(x) != (4, 4)")
    message = _fails("conv2d", {"conv2d": wrong})
    assert "conv2d(array of shape (4, 4)" in message and "expected" in message
    assert checks.HIDDEN_NOTE not in message


def test_object_that_equals_everything_gains_nothing():
    always = "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n"
    for name in ("q1c", "q1e", "q2a", "q4_f", "q1b"):
        _fails(name, {name: always + f"{name} = AlwaysEqual()\n"})
    _fails("conv2d", {"conv2d": always + "def conv2d(x, w, stride=1, padding=0):\n    return AlwaysEqual()\n"})


@pytest.mark.parametrize("answer", [0.11600000000000002, np.float64(0.116), np.float32(0.116), 0.116])
def test_hand_answers_accept_rounding_and_numpy_scalars(answer):
    assert grade("q4_f", value("q4_f", answer)) is None


@pytest.mark.parametrize("answer", [[[4, 4], [0, 4]], ((4.0, 4.0), (0.0, 4.0)),
                                    np.array([[4, 4], [0, 4]], dtype=np.int8)])
def test_hand_answers_accept_lists_tuples_and_arrays(answer):
    assert grade("q2c", value("q2c", answer)) is None


def test_true_or_false_answers_must_be_booleans():
    assert "True or False" in _fails_value("q1h_changes_channels", 0)


def test_untouched_stub_says_it_is_not_answered_yet():
    stub = "def conv2d(x, w, stride=1, padding=0):\n    raise NotImplementedError()\n"
    assert "not answered yet" in _fails("conv2d", {"conv2d": stub})


def test_undefined_hand_answer_says_it_is_not_answered_yet():
    assert "not answered yet" in grade("q2a", {"np": np}).message


def test_function_returning_none_says_so():
    assert "None" in _fails("conv_param_count", {"conv_param_count": "def conv_param_count(F, C, K):\n    return None\n"})


def test_invalid_configuration_must_raise_value_error_with_a_message():
    code = ("def conv_output_size(n, F, S=1, P=0):\n"
            "    if min(n, F, S) < 1 or P < 0 or F > n + 2 * P or (n - F + 2 * P) % S:\n"
            "        raise ValueError()\n"
            "    return (n - F + 2 * P) // S + 1\n")
    assert "without a message" in _fails("conv_output_size", {"conv_output_size": code})


def test_modified_inputs_are_named():
    code = ("def compute_distances_no_loops(X_test, X_train):\n"
            "    X_test -= 0\n    X_test[...] = 0\n"
            "    return np.abs(X_test[:, None, :].astype(float) - X_train[None]).sum(2)\n")
    assert "changed its input" in _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})


# ------------------------------------------------------------------ carry-forward credit


def test_shape_function_built_on_a_wrong_size_function_keeps_its_points():
    wrong_size = ("def conv_output_size(n, F, S=1, P=0):\n"
                  "    if (n - F + 2 * P) % S:\n        raise ValueError('stride does not fit')\n"
                  "    return (n - F + 2 * P) // S\n")  # forgot + 1
    assert _grade_notebook("conv_output_size", {"conv_output_size": wrong_size}) is not None
    assert _grade_notebook("conv_output_shape", {"conv_output_size": wrong_size}) is None
    assert _grade_notebook("pool_output_shape", {"conv_output_size": wrong_size}) is None


def test_shape_functions_built_on_a_size_function_without_validation_keep_their_points():
    floor = "def conv_output_size(n, F, S=1, P=0):\n    return (n - F + 2 * P) // S + 1\n"
    assert _grade_notebook("conv_output_size", {"conv_output_size": floor}) is not None
    assert _grade_notebook("conv_output_shape", {"conv_output_size": floor}) is None
    assert _grade_notebook("pool_output_shape", {"conv_output_size": floor}) is None


def test_a_size_function_that_changes_its_answers_later_gives_stubs_no_carry_forward_credit():
    size = ("_state = {'shape_called': False}\n"
            + solution_sources(code_only=True)["01_conv_arithmetic"]["conv_output_size"].replace(
                "def conv_output_size(n, F, S=1, P=0):",
                "def conv_output_size(n, F, S=1, P=0):\n    if _state['shape_called']:\n"
                "        raise ValueError('no')", 1))
    stub = ("def conv_output_shape(input_shape, F, S=1, P=0, K=1):\n"
            "    _state['shape_called'] = True\n    raise ValueError('no')\n")
    assert _grade_notebook("conv_output_size", {"conv_output_size": size}) is None
    assert _grade_notebook("conv_output_shape", {"conv_output_size": size, "conv_output_shape": stub}) is not None


def test_backward_is_checked_on_the_students_own_forward_cache():
    forward = "def forward(W, x):\n    q = W @ x\n    return q @ q, {'q': q, 'W': W, 'x': x}\n"
    backward = ("def backward(cache, df=1.0):\n    dq = 2 * cache['q'] * df\n"
                "    return np.outer(dq, cache['x']), cache['W'].T @ dq\n")
    assert _grade_notebook("backward", {"forward": forward, "backward": backward}) is None


def test_backward_keeps_its_points_when_forward_is_missing():
    stub = "def forward(W, x):\n    raise NotImplementedError()\n"
    assert _grade_notebook("forward", {"forward": stub}) is not None
    assert _grade_notebook("backward", {"forward": stub}) is None


# ------------------------------------------------------------------ source rules

NO_LOOP_HEAD = "def compute_distances_no_loops(X_test, X_train):\n"


@pytest.mark.parametrize("body, why", [
    ("    return np.array([np.abs(X_train.astype(float) - r).sum(1) for r in X_test])\n", "1 loop"),
    ("    f = np.vectorize(lambda a, b: abs(float(a) - float(b)))\n"
     "    return f(X_test[:, None, :], X_train[None]).sum(2)\n", "vectorize"),
    ("    return np.array(list(map(lambda r: np.abs(X_train.astype(float) - r).sum(1), X_test)))\n", "map"),
    ("    out = np.zeros((len(X_test), len(X_train)))\n    i = 0\n    while i < len(X_test):\n"
     "        out[i] = np.abs(X_train.astype(float) - X_test[i]).sum(1)\n        i += 1\n    return out\n", "1 loop"),
])
def test_no_loops_version_rejects_every_kind_of_loop(body, why):
    message = _fails("compute_distances_no_loops", {"compute_distances_no_loops": NO_LOOP_HEAD + body})
    assert why in message and "[mistake: loop-in-no-loops]" in message


def test_loops_hidden_in_a_helper_function_count():
    code = ("def row_distances(row, X_train):\n"
            "    return np.array([np.abs(X_train[j].astype(float) - row).sum() for j in range(len(X_train))])\n\n"
            + NO_LOOP_HEAD + "    return np.stack([row_distances(r, X_train) for r in X_test])\n")
    assert "[mistake: loop-in-no-loops]" in _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})


def test_recursion_counts_as_a_loop():
    code = (NO_LOOP_HEAD + "    if len(X_test) == 0:\n        return np.zeros((0, len(X_train)))\n"
            "    first = np.abs(X_train.astype(float) - X_test[0]).sum(1)\n"
            "    return np.vstack([first, compute_distances_no_loops(X_test[1:], X_train)])\n")
    assert "calls itself" in _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})


def test_a_local_variable_named_like_a_looping_function_is_not_followed():
    code = (NO_LOOP_HEAD + "    compute_distances_two_loops = X_test.astype(float)\n"
            "    return np.abs(compute_distances_two_loops[:, None, :] - X_train[None]).sum(2)\n")
    assert _grade_notebook("compute_distances_no_loops", {"compute_distances_no_loops": code}) is None


def test_one_loop_version_accepts_exactly_one_loop_in_any_direction():
    code = ("def compute_distances_one_loop(X_test, X_train):\n"
            "    dists = np.zeros((X_test.shape[0], X_train.shape[0]))\n"
            "    for j in range(X_train.shape[0]):\n"
            "        dists[:, j] = np.abs(X_test.astype(float) - X_train[j]).sum(axis=1)\n"
            "    return dists\n")
    assert _grade_notebook("compute_distances_one_loop", {"compute_distances_one_loop": code}) is None


def test_numpy_only_rule_names_the_library_used():
    code = ("from scipy.spatial.distance import cdist\n\n" + NO_LOOP_HEAD +
            "    return cdist(X_test, X_train, 'cityblock')\n")
    message = _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})
    assert "scipy" in message and "[mistake: not-numpy-only]" in message


def test_answers_may_not_call_the_course_helpers():
    code = ("from helpers.sliding import conv_result\n\n"
            "def conv2d(x, w, stride=1, padding=0):\n    return conv_result(x, w, stride, padding)\n")
    assert "helpers" in _fails("conv2d", {"conv2d": code})


@pytest.mark.parametrize("trick", [
    "inner = eval('lambda r, X: [abs(r - x).sum() for x in X]')\n",
    "exec('def inner(r, X):\\n    return [abs(r - x).sum() for x in X]')\n",
    "inner = globals()['compute_distances_two_loops']\n",
    "inner = __import__('scipy')\n",
    "inner = getattr(np, 'vec' + 'torize')\n",
    "inner = np.__class__\n",
    "get_ipython().input_transformers_post.append(lambda lines: lines)\n",
])
def test_code_that_hides_what_it_calls_breaks_the_plain_code_rule(trick):
    code = trick + NO_LOOP_HEAD + "    return np.abs(X_test[:, None, :].astype(float) - X_train[None]).sum(2)\n"
    assert "[mistake: dynamic-code]" in _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})


def test_timeit_magic_is_plain_code():
    code = ("%timeit np.zeros(3)\n" + NO_LOOP_HEAD
            + "    return np.abs(X_test[:, None, :].astype(float) - X_train[None]).sum(2)\n")
    assert _grade_notebook("compute_distances_no_loops", {"compute_distances_no_loops": code}) is None


def test_code_hidden_in_an_added_cell_is_found():
    notebook = SOLUTIONS["compute_distances_no_loops"][0]
    sources = dict(solution_sources(code_only=True)[notebook])
    cells = [Cell(src, True, gid) for gid, src in sources.items()]
    cells.append(Cell("exec('x = 1')\n", True, None))
    failure = grade("compute_distances_no_loops", namespace_of(*sources.items()), cells)
    assert failure is not None and failure.slug == "dynamic-code"


def test_code_hidden_in_another_answers_cell_costs_every_answer_it_could_replace():
    # a clean conv2d, replaced at run time by exec in max_pool2d's answer cell
    pool = SOLUTIONS["max_pool2d"][1] + (
        "\nexec('def conv2d(x, w, stride=1, padding=0):\\n    return x')\n")
    failure = _grade_notebook("conv2d", {"max_pool2d": pool})
    assert failure is not None and failure.slug == "dynamic-code"
    assert "cell" in failure.message and "exec" in failure.message


def test_a_future_import_in_another_answers_cell_costs_every_answer():
    pool = "from __future__ import barry_as_FLUFL\n" + SOLUTIONS["max_pool2d"][1]
    failure = _grade_notebook("conv2d", {"max_pool2d": pool})
    assert failure is not None and failure.slug == "dynamic-code"


# ------------------------------------------------------------------ rules a hostile student probed

LOOPY_BODY = ("    out = np.zeros((len(X_test), len(X_train)))\n    for i in range(len(X_test)):\n"
              "        for j in range(len(X_train)):\n"
              "            out[i, j] = np.abs(X_test[i].astype(float) - X_train[j]).sum()\n    return out\n")


@pytest.mark.parametrize("wrapper", ["if True:\n", "try:\n", "%%time\n"])
def test_a_definition_hidden_inside_a_block_or_magic_breaks_the_rules(wrapper):
    indent = "" if wrapper.startswith("%%") else "    "
    body = "".join(indent + line + "\n" for line in (NO_LOOP_HEAD + LOOPY_BODY).splitlines())
    code = wrapper + body + ("except Exception:\n    pass\n" if wrapper == "try:\n" else "")
    message = _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})
    assert "top level" in message


@pytest.mark.parametrize("trick", [
    "    vec = np.vectorize\n    f = vec(lambda a, b: abs(float(a) - float(b)))\n"
    "    return f(X_test[:, None, :], X_train[None]).sum(2)\n",
    "    f = getattr(np, 'vectorize')(lambda a, b: abs(float(a) - float(b)))\n"
    "    return f(X_test[:, None, :], X_train[None]).sum(2)\n",
    "    rows = []\n    sorted(range(len(X_test)), key=lambda i: rows.append("
    "np.abs(X_train.astype(float) - X_test[i]).sum(1)))\n    return np.array(rows)\n",
])
def test_looping_functions_count_however_they_are_reached(trick):
    message = _fails("compute_distances_no_loops", {"compute_distances_no_loops": NO_LOOP_HEAD + trick})
    assert "[mistake: loop-in-no-loops]" in message


def test_future_imports_that_change_the_syntax_break_the_plain_code_rule():
    code = "from __future__ import barry_as_FLUFL\n" + NO_LOOP_HEAD + \
           "    return np.abs(X_test[:, None, :].astype(float) - X_train[None]).sum(2)\n"
    assert "[mistake: dynamic-code]" in _fails("compute_distances_no_loops", {"compute_distances_no_loops": code})


def test_top_level_await_cells_are_read_like_the_kernel_reads_them():
    notebook = SOLUTIONS["compute_distances_no_loops"][0]
    sources = dict(solution_sources(code_only=True)[notebook])
    cells = [Cell(src, True, gid) for gid, src in sources.items()]
    cells.append(Cell("import asyncio\nawait asyncio.sleep(0)\nexec('x = 1')\n", True, None))
    failure = grade("compute_distances_no_loops", namespace_of(*sources.items()), cells)
    assert failure is not None and failure.slug == "dynamic-code"


IMPL = ("def _impl(X_test, X_train):\n    out = []\n    for i in range(X_test.shape[0]):\n"
        "        out.append(np.abs(X_train - X_test[i].astype(float)).sum(axis=1))\n    return np.array(out)\n")


@pytest.mark.parametrize("code", [
    IMPL + "ops = {}\nops.update(d=_impl)\n" + NO_LOOP_HEAD + "    return ops['d'](X_test, X_train)\n",
    IMPL + "ops = []\nops.append(_impl)\n" + NO_LOOP_HEAD + "    return ops[0](X_test, X_train)\n",
    "def _setup():\n    global _rows\n    _rows = lambda a, b: np.array([np.abs(b - r).sum(1) for r in a])\n_setup()\n"
    + NO_LOOP_HEAD + "    return _rows(X_test.astype(float), X_train)\n",
    "def _rec(a, b, me):\n    if a.shape[0] == 0:\n        return np.zeros((0, b.shape[0]))\n"
    "    head = np.abs(b - a[0].astype(float)).sum(axis=1)[None, :]\n"
    "    return np.concatenate([head, me(a[1:], b, me)])\n"
    + NO_LOOP_HEAD + "    return _rec(X_test, X_train, _rec)\n",
], ids=["dict-update", "list-append", "global-in-setup", "function-passed-to-itself"])
def test_loops_reached_through_containers_globals_or_passed_functions_count(code):
    failure = _grade_notebook("compute_distances_no_loops", {"compute_distances_no_loops": code})
    assert failure is not None and failure.slug in ("loop-in-no-loops", "dynamic-code")
