"""helpers.rules on whole notebooks: what the grader cannot read, analysis that must end,
loops hidden in classes and protocols, and ordinary notebook use that must cost nothing.

Each test reads a source notebook as the grader would (locked cells, answer cells filled
with the answer key or a variant, cells a student added), with ``Cell.index`` set to the
cell's 1-based position, and asks :func:`helpers.rules.violations` directly: no kernel.
"""
from __future__ import annotations

import dataclasses
import json

import nbformat
import numpy as np
import pytest
from nbgrader import utils as nbutils

from autograder.coursebuild import NOTEBOOKS, SOURCE, fill_answers, graded_cells, solution_sources
from helpers import checks, rules
from helpers.rules import Cell

NB1, NB2, NB3 = "01_conv_arithmetic", "02_kernel_of_truth", "03_l1_vectorization"
NO_LOOPS = "compute_distances_no_loops"
ONE_LOOP = "compute_distances_one_loop"
NO_LOOP_HEAD = "def compute_distances_no_loops(X_test, X_train):\n"
VECTORISED = "    return np.abs(X_test[:, None, :].astype(float) - X_train[None]).sum(2)\n"


def cells_of(notebook: str, replace: dict | None = None, added=()) -> list[Cell]:
    """The notebook's code cells as the grader reads them: the answer key with ``replace``
    swapped in, and ``added`` appended as cells the student added."""
    nb = nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4)
    fill_answers(nb, {**solution_sources(code_only=True)[notebook], **(replace or {})})
    nb.cells += [nbformat.v4.new_code_cell(src) for src in added]
    return [Cell(c.source, not nbutils.is_locked(c),
                 c.metadata.get("nbgrader", {}).get("grade_id") if nbutils.is_solution(c) else None,
                 index)
            for index, c in enumerate(nb.cells, 1) if c.cell_type == "code"]


def position(notebook: str, added: int) -> int:
    """The 1-based position of the last of ``added`` cells appended to ``notebook``."""
    return len(nbformat.read(SOURCE / f"{notebook}.ipynb", as_version=4).cells) + added


def answers_of(notebook: str) -> list[str]:
    return [gid[len("test_"):] for gid in graded_cells(notebook)]


def is_function(name: str) -> bool:
    return checks.plan(name, np.random.default_rng(0)).function


def verdicts(notebook: str, replace=None, added=()) -> dict[str, list[str]]:
    """answer -> the messages of the rules it breaks, for every graded answer of ``notebook``."""
    cells = cells_of(notebook, replace, added)
    return {name: [v.message for v in rules.violations(name, cells, function=is_function(name))]
            for name in answers_of(notebook)}


def first(name: str, notebook: str, replace=None, added=()) -> str:
    """The message of the first rule ``name``'s answer breaks (it must break one)."""
    found = rules.violations(name, cells_of(notebook, replace, added), function=is_function(name))
    assert found, f"{name} should break a rule"
    return found[0].message


def no_loops(body: str, before: str = "") -> dict:
    return {NO_LOOPS: before + NO_LOOP_HEAD + body}


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_answer_key_breaks_no_rule(notebook):
    assert verdicts(notebook) == {name: [] for name in answers_of(notebook)}


# ------------------------------------------------------------------ 1. code the grader cannot read

DEEP = "x = " + " + ".join(["1"] * 3000) + "\n"   # the kernel runs it with a raised recursion limit


def test_a_cell_too_deep_for_the_grader_fails_every_answer_and_says_which_cell():
    found = verdicts(NB2, added=["import sys\nsys.setrecursionlimit(100000)\n", DEEP])
    cell = position(NB2, 2)
    for name, messages in found.items():
        assert messages, name
        assert f"could not read cell {cell}" in messages[0] and "nested too deeply" in messages[0], messages


def test_an_answer_cell_too_deep_for_the_grader_fails_with_a_message():
    code = NO_LOOP_HEAD + "    x = " + " + ".join(["X_test"] * 3000) + "\n" + VECTORISED
    assert "could not read cell" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


def test_a_cell_over_the_size_cap_is_not_read_and_says_so():
    message = first("q2a", NB2, added=["x = 1\n" * 40_000])
    assert "could not read cell" in message and "too long" in message


def test_a_genuine_syntax_error_defines_nothing_and_costs_nothing():
    assert verdicts(NB2, added=["def broken(:\n    pass\n"]) == {n: [] for n in answers_of(NB2)}


def test_a_deep_chain_of_deep_functions_is_analysed_without_recursion_error():
    # each function is a few hundred levels deep; followed one into the next they were
    # deeper than Python's recursion limit, and the exception failed the whole notebook
    deep = " + ".join(["1"] * 300)
    chain = "".join(f"def d{i}():\n    return d{i - 1}() + {deep}\n" if i else f"def d0():\n    return {deep}\n"
                    for i in range(8))   # the call is the deepest leaf of its sum
    assert rules.violations(NO_LOOPS, cells_of(NB3, no_loops("    d7()\n" + VECTORISED, chain)),
                            function=True) == []


def test_an_analysis_that_raises_recursion_error_fails_that_answer_only(monkeypatch):
    cells = cells_of(NB3)
    real = rules._Analysis.summary

    def deep(self, key):
        if key == ("g", NO_LOOPS):
            raise RecursionError
        return real(self, key)

    monkeypatch.setattr(rules._Analysis, "summary", deep)
    [only] = rules.violations(NO_LOOPS, cells, function=True)
    assert "could not analyse" in only.message and NO_LOOPS in only.message
    assert rules.violations(ONE_LOOP, cells, function=True) == []


# ------------------------------------------------------------------ 2. analysis that must end

def test_an_exponential_chain_of_helpers_is_summarised_once_per_function(monkeypatch):
    chain = "def h0(x):\n    for _ in range(1):\n        pass\n    return x\n" + "".join(
        f"def h{i}(x):\n    return h{i - 1}(h{i - 1}(x))\n" for i in range(1, 41))
    walked = []
    real = rules._Analysis.facts
    monkeypatch.setattr(rules._Analysis, "facts", lambda self, key: walked.append(key) or real(self, key))
    message = first(NO_LOOPS, NB3, no_loops("    h40(0)\n" + VECTORISED, chain))
    assert f"{2 ** 40} loop(s)" in message   # every call of h0 runs its loop: the counts add up
    h_keys = [k for k in walked if k[0] == "g" and k[1].startswith("h")]
    assert len(h_keys) == len(set(h_keys)) == 41


def test_a_cell_of_20000_magics_is_not_read_and_the_grader_moves_on():
    message = first("q2a", NB2, added=["%time 1\n" * 20_000])
    assert "could not read cell" in message and "too long" in message


def test_a_cell_with_more_magics_than_the_cap_is_not_read():
    message = first("q2a", NB2, added=["%time 1\n" * (rules.MAX_MAGIC_LINES + 1)])
    assert "could not read cell" in message and "magics" in message


def test_each_cell_is_transformed_and_parsed_once_per_source(monkeypatch):
    rules._clear_caches()
    calls = []
    real = rules._transform
    monkeypatch.setattr(rules, "_transform", lambda source: calls.append(source) or real(source))
    verdicts(NB1)
    assert calls and len(calls) == len(set(calls))


def test_an_analysis_over_its_time_budget_fails_that_answer_only(monkeypatch):
    cells = cells_of(NB3)
    rules.violations(ONE_LOOP, cells, function=True)          # the notebook is read and cached
    monkeypatch.setattr(rules, "ANALYSIS_SECONDS", 0.0)
    [late] = rules.violations(NO_LOOPS, cells, function=True)
    assert "could not analyse" in late.message and "time" in late.message
    monkeypatch.undo()
    assert rules.violations(ONE_LOOP, cells, function=True) == []


# ------------------------------------------------------------------ 3. loops the loop rule must see

CLASS_ROUTES = {
    "method-recursion": (
        "class Rows:\n    def __init__(self, X_train):\n        self.X_train = X_train\n"
        "    def rows(self, X_test):\n        if len(X_test) == 0:\n"
        "            return np.zeros((0, len(self.X_train)))\n"
        "        head = np.abs(self.X_train - X_test[0].astype(float)).sum(1)[None]\n"
        "        return np.concatenate([head, self.rows(X_test[1:])])\n",
        "    return Rows(X_train).rows(X_test)\n", "Rows.rows"),
    "getitem-consumed-by-list": (
        "class Rows:\n    def __init__(self, X_test, X_train):\n        self.a, self.b = X_test, X_train\n"
        "    def __len__(self):\n        return len(self.a)\n"
        "    def __getitem__(self, i):\n        if i >= len(self.a):\n            raise IndexError(i)\n"
        "        return np.abs(self.b - self.a[i].astype(float)).sum(1)\n",
        "    return np.array(list(Rows(X_test, X_train))).reshape(len(X_test), len(X_train))\n",
        "Rows.__getitem__"),
    "iter-next-consumed-by-np-array": (
        "class Rows:\n    def __init__(self, X_test, X_train):\n        self.a, self.b, self.i = X_test, X_train, 0\n"
        "    def __iter__(self):\n        return self\n"
        "    def __next__(self):\n        if self.i == len(self.a):\n            raise StopIteration\n"
        "        self.i += 1\n        return np.abs(self.b - self.a[self.i - 1].astype(float)).sum(1)\n",
        "    return np.array(list(Rows(X_test, X_train)), dtype=float).reshape(len(X_test), len(X_train))\n",
        "Rows.__next__"),
    "call-used-as-a-sort-key": (
        "class Row:\n    def __init__(self, X_test, X_train, out):\n        self.a, self.b, self.out = X_test, X_train, out\n"
        "    def __call__(self, i):\n        self.out[i] = np.abs(self.b - self.a[i].astype(float)).sum(1)\n"
        "        return i\n",
        "    out = np.zeros((len(X_test), len(X_train)))\n"
        "    list(range(len(X_test))).sort(key=Row(X_test, X_train, out))\n    return out\n",
        "Row.__call__"),
    "method-called-per-item-of-an-object-array": (
        "class Row:\n    def __init__(self, X_test, X_train, out):\n        self.a, self.b, self.out, self.i = X_test, X_train, out, 0\n"
        "    def sqrt(self):\n        self.out[self.i] = np.abs(self.b - self.a[self.i].astype(float)).sum(1)\n"
        "        self.i += 1\n        return 0\n",
        "    out = np.zeros((len(X_test), len(X_train)))\n    row = Row(X_test, X_train, out)\n"
        "    np.sqrt(np.array([row] * len(X_test)))\n    return out\n",
        "Row.sqrt"),
    "function-stored-on-an-object": (
        "class Box:\n    pass\n_state = {'i': 0}\n"
        "def _row(a, b, out):\n    out[_state['i']] = np.abs(b - a[_state['i']].astype(float)).sum(1)\n"
        "    _state['i'] += 1\n    return 0\n",
        "    out = np.zeros((len(X_test), len(X_train)))\n    box = Box()\n"
        "    box.sqrt = lambda: _row(X_test, X_train, out)\n"
        "    np.sqrt(np.array([box] * len(X_test)))\n    return out\n",
        "box.sqrt"),
}


@pytest.mark.parametrize("route", sorted(CLASS_ROUTES))
def test_student_code_called_repeatedly_by_python_or_numpy_counts_as_a_loop(route):
    before, body, named = CLASS_ROUTES[route]
    message = first(NO_LOOPS, NB3, no_loops(body, before))
    assert "must use no loop" in message and named in message, message


def test_nested_helpers_are_followed_where_they_are_defined():
    code = (NO_LOOP_HEAD + "    def rec(a):\n        if len(a) == 0:\n            return np.zeros((0, len(X_train)))\n"
            "        return np.vstack([np.abs(X_train - a[0].astype(float)).sum(1), rec(a[1:])])\n"
            "    return rec(X_test)\n")
    assert "rec (calls itself)" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


def test_a_name_assigned_in_a_nested_function_does_not_hide_the_global_it_shadows():
    loopy = "def loopy(a, b):\n    return np.array([np.abs(b - r.astype(float)).sum(1) for r in a])\n"
    code = loopy + NO_LOOP_HEAD + "    def _unused():\n        loopy = 1\n    return loopy(X_test, X_train)\n"
    assert "must use no loop" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


def test_a_container_keeps_what_was_put_in_it_before_an_item_was_changed():
    code = ("def _impl(a, b):\n    return np.array([np.abs(b - r.astype(float)).sum(1) for r in a])\n"
            "ops = {'d': _impl}\nops['x'] = 1\n" + NO_LOOP_HEAD + "    return ops['d'](X_test, X_train)\n")
    assert "must use no loop" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


def test_a_list_sort_with_a_key_counts_as_a_loop():
    code = (NO_LOOP_HEAD + "    rows = []\n    order = list(range(len(X_test)))\n"
            "    order.sort(key=lambda i: rows.append(np.abs(X_train - X_test[i].astype(float)).sum(1)) or i)\n"
            "    return np.array(rows)\n")
    assert "must use no loop" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


@pytest.mark.parametrize("code", [
    NO_LOOP_HEAD + "    %time rows = [np.abs(X_train - r.astype(float)).sum(1) for r in X_test]\n"
    "    return np.array(rows)\n",
    "def _impl(a, b):\n    return np.array([np.abs(b - r.astype(float)).sum(1) for r in a])\n"
    "ops = []\ndef _setup():\n    ops.append(_impl)\n_setup()\n" + NO_LOOP_HEAD + "    return ops[0](X_test, X_train)\n",
    NO_LOOP_HEAD + "    out = []\n    class _Rows:\n"
    "        [out.append(np.abs(X_train - r.astype(float)).sum(1)) for r in X_test]\n    return np.array(out)\n",
], ids=["magic-inside-the-function", "container-filled-by-a-function", "class-body-runs-where-it-stands"])
def test_loops_in_magics_fillers_and_class_bodies_count(code):
    assert "must use no loop" in first(NO_LOOPS, NB3, {NO_LOOPS: code})


LOOPY = "np.array([np.abs(b - r.astype(float)).sum(1) for r in a])"


@pytest.mark.parametrize("code", [
    f"def _d(a, b):\n    return {LOOPY}\nif False:\n    def _d(a, b):\n        return 0\n"
    + NO_LOOP_HEAD + "    return _d(X_test, X_train)\n",
    NO_LOOP_HEAD + f"    def _d(a, b):\n        return 0\n    def _d(a, b):\n        return {LOOPY}\n"
    "    return _d(X_test, X_train)\n",
    NO_LOOP_HEAD + "    Rows = type('Rows', (), {'__len__': lambda s: len(X_test),\n"
    "        '__getitem__': lambda s, i: np.abs(X_train - X_test[i].astype(float)).sum(1)})\n"
    "    return np.array(Rows())\n",
], ids=["redefined-in-a-branch-that-never-runs", "nested-def-redefined", "class-made-with-type"])
def test_a_definition_the_kernel_may_run_instead_is_read_too(code):
    message = first(NO_LOOPS, NB3, {NO_LOOPS: code})
    # type(...) with a dict of dunder methods is refused as hidden code before it is counted
    assert "must use no loop" in message or "must be plain code" in message


def test_a_helper_that_keeps_a_cache_is_not_recursion():
    code = ("_cache = {}\ndef _l1(a, b):\n    _cache['last'] = np.abs(a[:, None, :].astype(float) - b[None]).sum(2)\n"
            "    return _cache['last']\n" + NO_LOOP_HEAD + "    return _l1(X_test, X_train)\n")
    assert rules.violations(NO_LOOPS, cells_of(NB3, {NO_LOOPS: code}), function=True) == []


def test_a_plain_helper_class_in_a_two_loop_answer_is_fine():
    code = ("class Pair:\n    def __init__(self, a, b):\n        self.d = np.abs(a.astype(float) - b).sum()\n"
            "def compute_distances_two_loops(X_test, X_train):\n"
            "    dists = np.zeros((X_test.shape[0], X_train.shape[0]))\n"
            "    for i in range(X_test.shape[0]):\n        for j in range(X_train.shape[0]):\n"
            "            dists[i, j] = Pair(X_test[i], X_train[j]).d\n    return dists\n")
    assert rules.violations("compute_distances_two_loops",
                            cells_of(NB3, {"compute_distances_two_loops": code}), function=True) == []


# ------------------------------------------------------------------ 4. numpy's ufunc methods are not loops

@pytest.mark.parametrize("body", [
    "    return np.add.reduce(np.abs(X_test[:, None, :].astype(float) - X_train[None]), axis=2)\n",
    "    d = np.abs(X_test[:, None, :].astype(float) - X_train[None])\n"
    "    return np.add.accumulate(d, axis=2)[:, :, -1] + 0 * np.maximum.accumulate(d, axis=2)[:, :, -1]\n",
])
def test_numpy_ufunc_reduce_and_accumulate_are_not_loops(body):
    assert rules.violations(NO_LOOPS, cells_of(NB3, no_loops(body)), function=True) == []


def test_functools_reduce_still_counts_as_a_loop():
    code = ("import functools\n" + NO_LOOP_HEAD + "    functools.reduce(lambda a, b: a, [1, 2])\n" + VECTORISED)
    report = rules.analyse(NO_LOOPS, cells_of(NB3, {NO_LOOPS: code}))
    assert report.count == 1 and "reduce" in report.loop_calls
    code = ("from functools import reduce as fold\n" + NO_LOOP_HEAD + "    fold(lambda a, b: a, [1, 2])\n" + VECTORISED)
    assert rules.analyse(NO_LOOPS, cells_of(NB3, {NO_LOOPS: code})).count == 1


# ------------------------------------------------------------------ 5. gc and IPython imports

@pytest.mark.parametrize("cell", [
    "import gc\ngc.collect()\n",
    "from IPython import display\ndisplay.display(display.Markdown('**hi**'))\n",
    "from IPython.display import HTML, display\ndisplay(HTML('<b>hi</b>'))\n",
    "import IPython.display as ipd\nipd.display(1)\n",
])
def test_harmless_gc_and_ipython_display_imports_are_plain_code(cell):
    assert verdicts(NB2, added=[cell]) == {n: [] for n in answers_of(NB2)}


@pytest.mark.parametrize("cell", [
    "import gc\nrefs = gc.get_referrers(np)\n",
    "import gc\nobjs = gc.get_objects()\n",
    "from gc import get_referents\n",
    "from gc import *\n",
    "from IPython import get_ipython\n",
    "import IPython\nIPython.get_ipython()\n",
    "import IPython.display\nIPython.get_ipython()\n",
    "from IPython.core.interactiveshell import InteractiveShell\n",
])
def test_gc_and_ipython_routes_into_the_interpreter_are_refused(cell):
    message = first("q2a", NB2, added=[cell])
    assert "plain code" in message and f"cell {position(NB2, 1)}" in message, message


# ------------------------------------------------------------------ 6. ordinary notebook use

HARMLESS = ["np.pad?", "np.pad??", "?np.pad", "np.*pad*?", "help(np.pad)",
            "%load_ext autoreload\n%autoreload 2", "%aimport numpy", "%who", "%whos", "%pwd",
            "%precision 3", "%xmode Minimal", "%config InlineBackend.figure_format = 'retina'",
            "%matplotlib inline", "%time x = np.zeros(3)", "%timeit -n 3 -r 1 np.zeros(3)",
            "%%time\nx = np.zeros(3)\n", "%%timeit\nnp.zeros(3)\n", "%%capture out\nx = 1\n"]


@pytest.mark.parametrize("notebook", [NB2, NB3])
@pytest.mark.parametrize("cell", HARMLESS)
def test_help_and_harmless_magics_cost_no_points(notebook, cell):
    assert verdicts(notebook, added=[cell]) == {n: [] for n in answers_of(notebook)}


@pytest.mark.parametrize("cell, typed", [
    ("%run helper.py", "%run helper.py"),
    ("%load helper.py", "%load helper.py"),
    ("%%writefile helper.py\ndef f():\n    pass\n", "%%writefile helper.py"),
    ("%%script python\nprint(1)\n", "%%script python"),
    ("%%bash\nls\n", "%%bash"),
    ("!ls -l", "!ls -l"),
    ("files = !ls", "!ls"),
    ("%sx ls", "%sx ls"),
    ("%system ls", "%system ls"),
    ("%load_ext mymodule", "%load_ext mymodule"),
    ("%who {exec('x = 1')}", "%who {exec('x = 1')}"),
    ("%config InteractiveShell.ast_transformers = []", "%config InteractiveShell.ast_transformers = []"),
    ("%matplotlib module://mybackend", "%matplotlib module://mybackend"),
])
def test_magics_that_run_or_load_code_are_refused_and_named_as_typed(cell, typed):
    message = first("q2a", NB2, added=[cell])
    where = f"cell {position(NB2, 1)} (`{cell.splitlines()[0]}`)"
    assert where in message and f"`{typed}`" in message and "get_ipython" not in message.split(". ")[0], message


def test_code_inside_a_time_magic_is_read():
    assert "`exec`" in first("q2a", NB2, added=["%time exec('x = 1')"])


def test_aimport_is_read_as_an_import():
    message = first(NO_LOOPS, NB3, {NO_LOOPS: "%aimport scipy\n" + NO_LOOP_HEAD + "    scipy.linalg\n" + VECTORISED})
    assert "numpy only" in message and "scipy" in message


def test_a_cell_without_an_index_is_named_by_its_first_line():
    cells = cells_of(NB2) + [Cell("%run helper.py\n", True)]
    message = rules.violations("q2a", cells, function=False)[0].message
    assert "a cell you added (`%run helper.py`)" in message


# ------------------------------------------------------------------ 7. hand answers and the course helpers

@pytest.mark.parametrize("code", [
    "from helpers.sliding import conv_result\nq2a = conv_result(I, F)\n",
    "import helpers.sliding as s\nq2a = s.conv_result(I, F).tolist()\n",
    "from helpers.sliding import conv_steps\nsteps = conv_steps(I, F)\nq2a = [[s for s in steps]]\n",
])
def test_hand_answers_may_not_come_from_the_course_helpers(code):
    assert "helpers" in first("q2a", NB2, {"q2a": code})


def test_hand_answers_may_use_the_locked_cells_and_the_students_own_functions():
    assert rules.violations("q2a", cells_of(NB2, {"q2a": "q2a = conv2d(I, F) + 0 * I[:3, :3]\n"}),
                            function=False) == []


# ------------------------------------------------------------------ the rules are stated

def _intro(notebook: str) -> str:
    cells = json.loads((SOURCE / f"{notebook}.ipynb").read_text())["cells"]
    return "".join(cells[0]["source"])


def test_the_rules_paragraph_is_the_same_in_every_notebook():
    paragraphs = {next(p for p in _intro(n).split("\n\n") if p.startswith("**How to work")) for n in NOTEBOOKS}
    assert len(paragraphs) == 1


@pytest.mark.parametrize("word", ["np.pad?", "help(", "%load_ext autoreload", "%autoreload", "%aimport",
                                  "%who", "%pwd", "%precision", "%xmode", "%config", "%matplotlib",
                                  "%timeit", "%%time", "%%capture", "%run", "%load", "%%writefile",
                                  "!", "%%bash", "__getitem__", "__iter__", "__call__", "__init__",
                                  "once per item", "could not read", "hand answer", "gc.get_objects"])
def test_the_rules_paragraph_states_each_rule(word):
    assert word in " ".join(_intro(NB1).split())


# ------------------------------------------------------------------ the binding the kernel holds

TWO_LOOP_NO_LOOPS = (NO_LOOP_HEAD + "    d = np.zeros((len(X_test), len(X_train)))\n"
                     "    for i in range(len(X_test)):\n        for j in range(len(X_train)):\n"
                     "            d[i, j] = np.abs(X_test[i].astype(float) - X_train[j]).sum()\n"
                     "    return d\n")


def _raised(cells: list[Cell], name: str) -> list[Cell]:
    """``cells`` with the answer cell of ``name`` marked as having stopped with an error."""
    return [dataclasses.replace(c, raised=True) if c.answer == name else c for c in cells]


def test_a_definition_after_the_statement_that_raised_does_not_hide_the_one_that_ran():
    code = TWO_LOOP_NO_LOOPS + "assert False\n" + NO_LOOP_HEAD + VECTORISED
    cells = _raised(cells_of(NB3, {NO_LOOPS: code}), NO_LOOPS)
    broken = rules.violations(NO_LOOPS, cells, function=True)
    assert any("no loop" in v.message for v in broken)


def test_an_answer_cell_that_raises_after_a_correct_definition_keeps_it():
    code = NO_LOOP_HEAD + VECTORISED + "compute_distances_no_loops(1, 2)  # a stray call that fails\n"
    cells = _raised(cells_of(NB3, {NO_LOOPS: code}), NO_LOOPS)
    assert rules.violations(NO_LOOPS, cells, function=True) == []


@pytest.mark.parametrize("rebinding", [
    "if (compute_distances_no_loops := compute_distances_one_loop):\n    pass\n",
    "while (compute_distances_no_loops := compute_distances_one_loop) is None:\n    pass\n",
    "match compute_distances_one_loop:\n    case compute_distances_no_loops:\n        pass\n",
    "def _unused(f=(compute_distances_no_loops := compute_distances_one_loop)):\n    pass\n",
])
def test_a_name_rebound_in_a_header_pattern_or_default_is_seen(rebinding):
    code = NO_LOOP_HEAD + VECTORISED + rebinding
    assert rules.violations(NO_LOOPS, cells_of(NB3, {NO_LOOPS: code}), function=True) != []


# ------------------------------------------------------------------ every rule is stated

@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_rules_paragraph_names_everything_the_plain_code_rule_refuses(notebook):
    nb = nbformat.read(SOURCE.parent.parent / "release" / "section03" / f"{notebook}.ipynb", as_version=4)
    text = next(c.source for c in nb.cells if "How to work in this notebook" in c.source)
    named = set()
    for word in rules.DYNAMIC_CALLS | rules.DYNAMIC_MODULES | {"global", "nonlocal"}:
        if f"`{word}" in text or f"/`{word}`" in text:
            named.add(word)
    assert named == rules.DYNAMIC_CALLS | rules.DYNAMIC_MODULES | {"global", "nonlocal"}
    assert "top level" in text and "%%time" in text


# ------------------------------------------------------------------ a fifth hostile round

LOOPY_ROWS = ("def helper_rows(X_test, X_train):\n    out = np.zeros((len(X_test), len(X_train)))\n"
              "    for i in range(len(X_test)):\n        for j in range(len(X_train)):\n"
              "            out[i, j] = np.abs(X_test[i] - X_train[j]).sum()\n    return out\n")


@pytest.mark.parametrize("swap", [
    'getattr(helper_rows, "__globals__")["compute_distances_no_loops"] = helper_rows\n',
    'import operator\noperator.attrgetter("__globals__")(helper_rows).update(compute_distances_no_loops=helper_rows)\n',
    "import __main__ as m\nm.compute_distances_no_loops = helper_rows\n",
    'import functools\nfunctools.update_wrapper(compute_distances_no_loops, helper_rows, assigned=("__code__",), updated=())\n',
])
def test_an_answer_replaced_through_attribute_names_in_strings_or_main_breaks_the_rules(swap):
    assert rules.violations(NO_LOOPS, cells_of(NB3, no_loops(VECTORISED), added=[LOOPY_ROWS + swap]),
                            function=True) != []


@pytest.mark.parametrize("future", ["print_function", "division", "absolute_import"])
def test_python2_future_imports_are_plain_code(future):
    assert verdicts(NB3, added=[f"from __future__ import {future}\n"])[NO_LOOPS] == []


def test_the_main_guard_string_is_plain_code():
    assert verdicts(NB3, added=['if __name__ == "__main__":\n    print("ok")\n'])[NO_LOOPS] == []


@pytest.mark.parametrize("body", [
    "    rows = np.arange(len(X_test))\n"
    "    return np.piecewise(rows, [rows == i for i in rows], [lambda r: 0] * len(X_test))\n",
    "    return np.loadtxt(['1'], converters=lambda s: float(s))\n",
])
def test_a_lambda_handed_to_numpy_counts_as_a_loop(body):
    assert rules.violations(NO_LOOPS, cells_of(NB3, no_loops(body)), function=True) != []


def test_a_lambda_in_the_call_alone_counts_as_a_loop():
    body = "    return np.piecewise(X_test, [X_test > 0], [lambda v: v * 0])\n"
    assert rules.violations(NO_LOOPS, cells_of(NB3, no_loops(body)), function=True) != []


def test_printing_numpys_version_is_plain_code():
    assert verdicts(NB3, added=["print(np.__version__)\n"])[NO_LOOPS] == []
