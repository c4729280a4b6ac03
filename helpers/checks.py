"""Hidden-test logic for Section 3, called from the notebooks' hidden test cells.

GRADING ONLY: never shipped to students. A hidden test cell is one call::

    from helpers.checks import check
    check("conv2d", conv2d)

:func:`check` compares the student's answer with :mod:`helpers.reference` on seeded random
inputs of many shapes and on edge cases. On the first mismatch it raises
:class:`CheckFailed`, whose message says what went wrong in a student's words and, when the
answer behaves like a catalogued mistake (:mod:`helpers.mistakes`), names it as
``[mistake: slug]``. ``CheckFailed`` renders without a traceback, so feedback never shows
this module's source.

Fairness rules kept here: inputs vary, rules do not; any correct style passes (lists for
arrays, numpy scalars, 0.116 vs 0.11600000000000002); student code runs with warnings
silenced so a correct answer never writes to stderr; answers are converted to plain numbers
before comparing, so an object whose ``__eq__`` always says yes gains nothing.
"""
from __future__ import annotations

import ast
import copy
import inspect
import math
import numbers
import textwrap
import types
import warnings
from dataclasses import dataclass

import numpy as np

from helpers import mistakes as _mistakes
from helpers import reference as ref

# Tolerances: hand answers are typed with a few decimals; functions must agree closely.
HAND_ATOL = 1e-6
FUNC_RTOL, FUNC_ATOL = 1e-7, 1e-8


class CheckFailed(AssertionError):
    """A hidden test failed. Renders as its message alone (no traceback into helpers)."""

    def _render_traceback_(self):
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: " + self.args[0].splitlines()[0],
                *self.args[0].splitlines()[1:]]


@dataclass
class Failure:
    """What a checker found: a message for the student, and the mistake it matches, if any."""

    message: str
    slug: str | None = None

    def render(self, name: str) -> str:
        text = f"{name}: {self.message}"
        if self.slug:
            mistake = _mistakes.by_slug(self.slug, name)
            text += f"\n[mistake: {self.slug}] {mistake.explanation}"
        return text


class _StudentError(Exception):
    """Student code raised; carries a readable description."""


def check(name: str, *answers) -> None:
    """Grade the answer ``name``; raise :class:`CheckFailed` with a diagnosis if it is wrong.

    ``answers`` is the student's object (function or value); ``check("backward", backward,
    forward)`` also takes the student's forward pass, since backward consumes its cache.
    """
    __tracebackhide__ = True
    try:
        checker = _CHECKERS[name]
    except KeyError:
        raise ValueError(f"no hidden test is defined for {name!r}") from None
    failure = _uses_course_helpers(answers) or checker(name, *answers)
    if failure is not None:
        raise CheckFailed(failure.render(name)) from None


# ======================================================================================
# Converting student answers to plain numbers (never trusting their __eq__)
# ======================================================================================


def _as_float_array(value, what: str) -> np.ndarray:
    """``value`` as a float ndarray, or a Failure-worthy TypeError with a readable message."""
    if value is None:
        raise TypeError(f"{what} is None; did you forget to return or assign it?")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} should be numbers (a list or numpy array), got {type(value).__name__}") from exc
    return arr


def _as_int(value, what: str) -> int:
    """An int-valued number (int, numpy int, or a whole float such as 28.0) as an int."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} should be a whole number, got the bool {value}")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        return int(float(value))
    raise TypeError(f"{what} should be a whole number, got {value!r}")


def _as_shape(value, what: str) -> tuple:
    """A shape given as a tuple, list or array of 3 whole numbers, as a tuple of ints."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{what} should be a shape like (W, H, C), got {value!r}")
    items = list(value)
    return tuple(_as_int(v, what) for v in items)


def _describe(value) -> str:
    """Short human description of an argument: arrays by shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} ({value.dtype})"
    return repr(value)


# ======================================================================================
# Calling student functions safely
# ======================================================================================


def _call(fn, *args):
    """Call student code on copies of ``args`` with warnings silenced.

    Returns ``(result, error)``; ``error`` is the exception raised (or None). Also reports
    whether the function modified its inputs, as a third element.
    """
    originals = [copy.deepcopy(a) for a in args]
    working = [copy.deepcopy(a) for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            result, error = fn(*working), None
        except Exception as exc:  # noqa: BLE001 -- any student error becomes feedback
            result, error = None, exc
    modified = any(
        isinstance(a, np.ndarray) and (a.shape != b.shape or not np.array_equal(a, b, equal_nan=True))
        for a, b in zip(working, originals)
    )
    return result, error, modified


def _not_callable(name, fn) -> Failure | None:
    if not callable(fn):
        return Failure(f"expected a function, got {type(fn).__name__}. Define it with `def {name}(...)`.")
    return None


def _raised(error: Exception, call: str) -> Failure:
    if isinstance(error, NotImplementedError):
        return Failure("not answered yet: the cell still raises NotImplementedError. Replace it with your code.")
    return Failure(f"{call} raised {type(error).__name__}: {error}")


def _same_outcome(a_result, a_error, b_result, b_error, compare) -> bool:
    """Whether two calls behaved alike: both raised ValueError, or returned equal results."""
    if a_error is not None or b_error is not None:
        return isinstance(a_error, ValueError) and isinstance(b_error, ValueError)
    try:
        return compare(a_result, b_result)
    except Exception:  # noqa: BLE001 -- an unconvertible result matches nothing
        return False


def _diagnose(name, fn_args, student_result, student_error, compare, adapt=None) -> str | None:
    """The slug of the first output mistake of ``name`` that behaves like the student's answer.

    ``adapt`` wraps a mistake's function the way the student's was wrapped for comparing.
    """
    for mistake in _mistakes.for_answer(name):
        if mistake.kind != "output":
            continue
        model = mistake.build() if adapt is None else adapt(mistake.build())
        m_result, m_error, _ = _call(model, *fn_args)
        if _same_outcome(student_result, student_error, m_result, m_error, compare):
            return mistake.slug
    return None


def _check_function(name, fn, cases, reference, compare, describe_result, adapt=None) -> Failure | None:
    """Run ``fn`` and ``reference`` on each case (a tuple of args) and report the first mismatch.

    ``compare(student_result, expected)`` says whether they agree; ``describe_result``
    explains a disagreement in words.
    """
    failure = _not_callable(name, fn)
    if failure:
        return failure
    for args in cases:
        call = f"{name}({', '.join(_describe(a) for a in args)})"
        expected, expected_error, _ = _call(reference, *args)
        result, error, modified = _call(fn, *args)
        if isinstance(error, NotImplementedError):
            return _raised(error, call)
        if expected_error is not None:  # an invalid configuration
            if isinstance(error, ValueError):
                if not str(error).strip():
                    return Failure(f"{call} raised ValueError without a message; say why the configuration is invalid.")
                continue
            slug = _diagnose(name, args, result, error, compare, adapt)
            if error is not None:
                return Failure(f"{call} should raise ValueError ({expected_error}), but raised "
                               f"{type(error).__name__}: {error}", slug)
            return Failure(f"{call} should raise ValueError because {expected_error}, "
                           f"but returned {result!r}.", slug or _invalid_slug(name))
        if error is not None:
            return Failure(f"{call} raised {type(error).__name__}: {error}", _diagnose(name, args, result, error, compare, adapt))
        if modified:
            return Failure(f"{call} changed its input arrays; leave the inputs unchanged.", "modified-input"
                           if any(m.slug == "modified-input" for m in _mistakes.for_answer(name)) else None)
        try:
            ok = compare(result, expected)
        except TypeError as exc:
            return Failure(f"{call}: {exc}")
        if not ok:
            return Failure(f"{call}: {describe_result(result, expected)}",
                           _diagnose(name, args, result, error, compare, adapt))
    return None


def _invalid_slug(name):
    return "floor-hides-invalid" if any(m.slug == "floor-hides-invalid" for m in _mistakes.for_answer(name)) else None


# ======================================================================================
# Comparators
# ======================================================================================


def _arrays_close(result, expected, atol=FUNC_ATOL, rtol=FUNC_RTOL) -> bool:
    got = _as_float_array(result, "the result")
    want = np.asarray(expected, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _explain_arrays(result, expected) -> str:
    got = _as_float_array(result, "the result")
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        hint = " (that is the transposed shape)" if got.shape == want.T.shape and want.ndim == 2 else ""
        return f"expected shape {want.shape}, got {got.shape}{hint}."
    bad = np.argwhere(~np.isclose(got, want, rtol=FUNC_RTOL, atol=FUNC_ATOL))
    where = tuple(int(i) for i in bad[0])
    return (f"{len(bad)} of {want.size} entries are wrong; e.g. at index {where} expected "
            f"{want[where]:.6g}, got {got[where]:.6g}.")


def _ints_equal(result, expected) -> bool:
    return _as_int(result, "the result") == expected


def _shapes_equal(result, expected) -> bool:
    return _as_shape(result, "the result") == tuple(expected)


def _pairs_close(result, expected) -> bool:
    """For functions returning two arrays, e.g. (dW, dx)."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"should return a pair (dW, dx), got {type(result).__name__}")
    return all(_arrays_close(r, e) for r, e in zip(result, expected))


# ======================================================================================
# Problem 1
# ======================================================================================


def _rng(name: str) -> np.random.Generator:
    """A generator seeded by the answer's name: same cases every run, different per answer."""
    return np.random.default_rng([ord(c) for c in name])


def _size_cases(rng, count=40):
    """(n, F, S, P) tuples: valid ones built from an output size, then invalid ones."""
    cases = [(32, 5, 1, 0), (227, 11, 4, 0), (7, 3, 2, 1), (5, 5, 1, 0), (1, 1, 1, 0)]
    for _ in range(count):
        S, P, F, out = (int(v) for v in (rng.integers(1, 5), rng.integers(0, 4), rng.integers(1, 8), rng.integers(1, 20)))
        n = (out - 1) * S + F - 2 * P
        if n >= 1:
            cases.append((n, F, S, P))
    cases += [(32, 5, 2, 0), (32, 5, 2, 3), (10, 4, 4, 0), (4, 7, 1, 1), (0, 1, 1, 0),
              (5, 0, 1, 0), (5, 3, 0, 0), (5, 3, 1, -1)]
    return cases


def _check_conv_output_size(name, fn):
    cases = _size_cases(_rng(name))
    return _check_function(name, fn, cases, ref.conv_output_size, _ints_equal,
                           lambda r, e: f"expected {e}, got {r!r}.")


def _shape_cases(rng, with_k: bool):
    cases = []
    for n, F, S, P in _size_cases(rng, 25):
        m = max(1, n + int(rng.integers(-2, 3)) * S)
        shape = (n, m, int(rng.integers(1, 6)))
        cases.append((shape, F, S, P) + ((int(rng.integers(1, 65)),) if with_k else ()))
    return cases


def _check_conv_output_shape(name, fn):
    cases = [((32, 32, 3), 5, 1, 0, 1), ((227, 227, 3), 11, 4, 0, 96)] + _shape_cases(_rng(name), True)
    return _check_function(name, fn, cases, ref.conv_output_shape, _shapes_equal,
                           lambda r, e: f"expected {e}, got {r!r}.")


def _check_pool_output_shape(name, fn):
    cases = [((55, 55, 96), 3, 2, 0), ((4, 4, 1), 3, 3, 1)] + _shape_cases(_rng(name), False)
    return _check_function(name, fn, cases, ref.pool_output_shape, _shapes_equal,
                           lambda r, e: f"expected {e}, got {r!r}.")


def _check_conv_param_count(name, fn):
    rng = _rng(name)
    cases = [(11, 3, 96), (3, 5, 25), (1, 1, 1)] + [tuple(int(v) for v in rng.integers(1, 12, 3)) for _ in range(20)]
    return _check_function(name, fn, cases, ref.conv_param_count, _ints_equal,
                           lambda r, e: f"expected {e}, got {r!r}.")


# ======================================================================================
# Hand answers (values)
# ======================================================================================


def _check_value(name, value, expected, compare, what):
    """A hand-worked value: right or not, and which mistake it matches. Never shows the answer."""
    try:
        ok = compare(value, expected)
    except TypeError as exc:
        return Failure(str(exc).replace("the result", name))
    if ok:
        return None
    slug = None
    for mistake in _mistakes.for_answer(name):
        try:
            if compare(value, mistake.build()):
                slug = mistake.slug
                break
        except TypeError:
            continue
    return Failure(f"{what} is not right yet. Recheck it against the reference material.", slug)


def _int_value(expected, what):
    return lambda name, value: _check_value(name, value, expected, _ints_equal, what)


def _shape_value(expected, what):
    return lambda name, value: _check_value(name, value, expected, _shapes_equal, what)


def _array_value(expected, what):
    compare = lambda v, e: _arrays_close(v, e, atol=HAND_ATOL, rtol=0)  # noqa: E731
    return lambda name, value: _check_value(name, value, expected, compare, what)


def _bool_value(expected, what):
    def checker(name, value):
        if not isinstance(value, (bool, np.bool_)):
            return Failure(f"should be True or False, got {value!r}.")
        if bool(value) != expected:
            return Failure(f"{what} is not right yet.")
        return None
    return checker


def _q1b_equal(value, expected) -> bool:
    if not isinstance(value, dict):
        raise TypeError(f"q1b should be a dict {{(S, P): shape or None}}, got {type(value).__name__}")
    plain = {}
    for key, shape in value.items():
        key = tuple(_as_int(k, "a key of q1b") for k in _as_shape(key, "a key of q1b"))
        plain[key] = None if shape is None else _as_shape(shape, f"q1b[{key}]")
    missing = set(expected) - set(plain)
    if missing:
        raise TypeError(f"q1b is missing the (S, P) keys {sorted(missing)}")
    return all(plain[k] == expected[k] for k in expected)


# ======================================================================================
# Problem 2
# ======================================================================================


def _conv_cases(rng, count=25):
    """(x, w, stride, padding) with valid configurations of many shapes, then edge cases."""
    cases = [(ref.I.copy(), ref.F.copy(), 1, 0), (ref.I.copy(), ref.F.copy(), 2, 1)]
    for i in range(count):
        S, P = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        kh, kw = (int(v) for v in rng.integers(1, 4, 2))
        oh, ow = (int(v) for v in rng.integers(1, 5, 2))
        h, w = (oh - 1) * S + kh - 2 * P, (ow - 1) * S + kw - 2 * P
        if h < 1 or w < 1:
            continue
        dtype = float if i % 3 else int
        x = rng.integers(-9, 10, (h, w)).astype(dtype) if dtype is int else rng.normal(size=(h, w))
        cases.append((x, rng.integers(-3, 4, (kh, kw)).astype(dtype), S, P))
    cases += [
        (np.arange(12.0).reshape(3, 4), np.ones((3, 4)), 1, 0),   # kernel as large as the input
        (rng.normal(size=(5, 5)), rng.normal(size=(2, 2)), 2, 0),  # stride does not fit: invalid
        (rng.normal(size=(2, 2)), rng.normal(size=(3, 3)), 1, 0),  # kernel larger than input
    ]
    return cases


def _check_conv2d(name, fn):
    return _check_function(name, fn, _conv_cases(_rng(name)), ref.conv2d, _arrays_close, _explain_arrays)


def _pool_cases(rng, count=20):
    cases = [(ref.I.copy(), 3, 3, 1), (ref.I.copy(), 2)]
    for _ in range(count):
        size, S, P = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(0, 2))
        P = min(P, size // 2)  # frameworks allow padding up to half the window
        oh, ow = (int(v) for v in rng.integers(1, 5, 2))
        h, w = (oh - 1) * S + size - 2 * P, (ow - 1) * S + size - 2 * P
        if h >= 1 and w >= 1:
            cases.append((-np.abs(rng.normal(size=(h, w))) - 0.5, size, S, P))  # negatives: zero pad would win
    cases += [(rng.normal(size=(6, 4)), 2), (rng.normal(size=(5, 5)), 2, 2, 0)]  # default stride; invalid
    return cases


def _check_max_pool2d(name, fn):
    return _check_function(name, fn, _pool_cases(_rng(name)), ref.max_pool2d, _arrays_close, _explain_arrays)


# ======================================================================================
# Problem 3: values and loop rules
# ======================================================================================

_LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOP_CALLS = {"map", "vectorize", "apply_along_axis", "frompyfunc", "fromiter", "apply_over_axes"}
_ALLOWED_MODULES = {"numpy", "builtins", "math"}


@dataclass
class _LoopReport:
    count: int = 0          # loops, comprehensions and loop-like calls
    depth: int = 0          # deepest nesting of loops
    forbidden: tuple = ()   # names of non-numpy libraries used
    loop_calls: tuple = ()  # map, np.vectorize, ... used


def _function_ast(fn):
    """The ``FunctionDef`` node of ``fn``, read from its source (IPython keeps cell sources)."""
    source = textwrap.dedent(inspect.getsource(fn))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn.__name__:
            return node
    raise OSError("function definition not found in its source")


def _analyse_loops(fn, report=None, depth=0, seen=None) -> _LoopReport:
    """Count the loops of ``fn`` and of the student's own helper functions it calls."""
    report = report or _LoopReport()
    seen = seen or set()
    seen.add(fn)
    tree = _function_ast(fn)

    def visit(node, level):
        if isinstance(node, _LOOP_NODES):
            report.count += 1
            level += 1
            report.depth = max(report.depth, level)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            bad = [m for m in modules if m.split(".")[0] not in _ALLOWED_MODULES]
            report.forbidden += tuple(bad)
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in _LOOP_CALLS:
                report.loop_calls += (called,)
                report.count += 1
                report.depth = max(report.depth, level + 1)
        if isinstance(node, ast.Name):
            target = fn.__globals__.get(node.id)
            if isinstance(target, types.FunctionType) and target.__module__ == fn.__module__:
                if target not in seen:
                    try:
                        _analyse_loops(target, report, level, seen)
                    except (OSError, TypeError, SyntaxError):
                        pass
            elif target is not None and not isinstance(target, (int, float, str, bool, np.ndarray)):
                module = getattr(target, "__module__", None) or getattr(target, "__name__", "")
                if isinstance(target, types.ModuleType):
                    module = target.__name__
                root = str(module).split(".")[0]
                if root and root not in _ALLOWED_MODULES and root != "__main__" and root != fn.__module__:
                    report.forbidden += (f"{node.id} (from {module})",)
        for child in ast.iter_child_nodes(node):
            visit(child, level)

    for stmt in tree.body:
        visit(stmt, depth)
    return report


def _uses_course_helpers(answers) -> Failure | None:
    """An answer must be the student's own code: calling the course's ``helpers`` scores zero.

    (The release ships ``helpers.sliding`` for the pictures; it computes convolutions.)
    """
    for answer in answers:
        if not isinstance(answer, types.FunctionType):
            continue
        try:
            used = _analyse_loops(answer).forbidden
        except (OSError, TypeError, SyntaxError):
            continue
        if any(item.split(".")[0].startswith("helpers") or "(from helpers" in item for item in used):
            return Failure("your answer calls the course's `helpers` package, which is there for the "
                           "pictures; write the computation yourself.")
    return None


_LOOP_RULES = {
    "compute_distances_two_loops": ("two nested loops (over the test points and the training points)", lambda r: r.depth >= 2, None),
    "compute_distances_one_loop": ("exactly one loop", lambda r: r.count == 1, "two-loops-in-one-loop"),
    "compute_distances_no_loops": ("no loop at all", lambda r: r.count == 0, "loop-in-no-loops"),
}


def _check_loop_rule(name, fn) -> Failure | None:
    rule, satisfied, slug = _LOOP_RULES[name]
    try:
        report = _analyse_loops(fn)
    except (OSError, TypeError, SyntaxError):
        return Failure("could not read the source of your function; define it with `def` in a notebook cell.")
    if report.forbidden:
        return Failure(f"use numpy only; your function uses {', '.join(sorted(set(report.forbidden)))}.", "not-numpy-only")
    if not satisfied(report):
        extra = f" (it calls {', '.join(sorted(set(report.loop_calls)))}, which loops)" if report.loop_calls else ""
        return Failure(f"must use {rule}; yours has {report.count} loop(s), nested {report.depth} deep{extra}.",
                       slug if report.count else None)
    return None


def _distance_cases(rng):
    cases = [(rng.random((2, 3)), rng.random((4, 3)))]  # the handout's scaffold
    for _ in range(4):
        t, n, d = (int(v) for v in rng.integers(1, 12, 3))
        cases.append((rng.normal(size=(t, d)), rng.normal(size=(n, d))))
    cases += [
        (rng.integers(-50, 50, (3, 7)), rng.integers(-50, 50, (5, 7))),                       # signed ints
        (rng.integers(0, 256, (4, 48), dtype=np.uint8), rng.integers(0, 256, (6, 48), dtype=np.uint8)),  # images
        (rng.normal(size=(1, 5)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)),
        (rng.normal(size=(3, 1)), rng.normal(size=(1, 1))),
    ]
    return cases


def _check_distances(name, fn):
    failure = _not_callable(name, fn) or _check_loop_rule(name, fn)
    if failure:
        return failure
    return _check_function(name, fn, _distance_cases(_rng(name)), ref.compute_distances, _arrays_close, _explain_arrays)


# ======================================================================================
# Problem 4
# ======================================================================================


def _backprop_cases(rng):
    cases = [(ref.W4.copy(), ref.x4.copy())]
    for n in (1, 2, 3, 5, 8):
        cases.append((rng.normal(size=(n, n)), rng.normal(size=n)))
    return cases


def _check_forward(name, fn):
    def value_of_f(forward_fn):
        def f_only(W, x):
            out = forward_fn(W, x)
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError(f"forward should return a pair (f, cache), got {type(out).__name__}")
            return out[0]
        return f_only

    failure = _not_callable(name, fn)
    if failure:
        return failure
    return _check_function(name, value_of_f(fn), _backprop_cases(_rng(name)), lambda W, x: ref.forward(W, x)[0],
                           _arrays_close, lambda r, e: f"expected f = {e:.6g}, got {r!r}.", adapt=value_of_f)


def _check_backward(name, fn, forward_fn=None):
    failure = _not_callable(name, fn)
    if failure:
        return failure
    forward_fn = forward_fn if callable(forward_fn) else ref.forward
    rng = _rng(name)

    def staged(W, x, df):
        _f, cache = forward_fn(W, x)
        return fn(cache, df) if df != 1.0 else fn(cache)

    def reference(W, x, df):
        return ref.backward(ref.forward(W, x)[1], df)

    cases = [(W, x, df) for (W, x), df in zip(_backprop_cases(rng), (1.0, 1.0, 0.5, -2.0, 3.0, 1.0))]
    # The diagnosis runs the catalogued backward mistakes on the reference's cache layout.
    def explain(r, e):
        return "dW or dx is wrong: " + "; ".join(
            f"{label}: {_explain_arrays(got, want)}" for label, got, want in zip(("dW", "dx"), r, e)
            if not _arrays_close(got, want))

    failure = _check_function(name, staged, cases, reference, _pairs_close, explain)
    if failure and failure.slug is None:
        failure.slug = _diagnose_backward(fn, forward_fn, cases)
    return failure


def _diagnose_backward(fn, forward_fn, cases):
    """Name a backward mistake by comparing gradients with the catalogue's, case by case."""
    for mistake in _mistakes.for_answer("backward"):
        model = mistake.build()
        agree = True
        for W, x, df in cases:
            got, err, _ = _call(lambda: fn(forward_fn(W, x)[1], df))
            want, merr, _ = _call(lambda: model(ref.forward(W, x)[1], df))
            if err or merr or not _same_outcome(got, None, want, None, _pairs_close):
                agree = False
                break
        if agree:
            return mistake.slug
    return None


def _check_closed_form(reference):
    def checker(name, fn):
        return _check_function(name, fn, _backprop_cases(_rng(name)), reference, _arrays_close, _explain_arrays)
    return checker


# ======================================================================================
# Registry: every graded name of SPEC.md
# ======================================================================================

_CHECKERS = {
    "conv_output_size": _check_conv_output_size,
    "conv_output_shape": _check_conv_output_shape,
    "q1b": lambda name, value: _check_value(name, value, ref.q1b, _q1b_equal, "Your table of output shapes"),
    "q1c": _shape_value(ref.q1c, "The output shape of AlexNet's first conv layer"),
    "conv_param_count": _check_conv_param_count,
    "q1e": _int_value(ref.q1e, "The parameter count of AlexNet's first conv layer"),
    "q1f": _int_value(ref.q1f, "The parameter count of the 31x31x5 layer"),
    "pool_output_shape": _check_pool_output_shape,
    "q1g_shape": _shape_value(ref.q1g_shape, "The pool layer's output shape"),
    "q1g_params": _int_value(ref.q1g_params, "The pool layer's parameter count"),
    "q1h_changes_channels": _bool_value(ref.q1h_changes_channels, "Whether the pool changed the channels"),
    "q1h_all_pool_sizes": _bool_value(ref.q1h_all_pool_sizes, "Whether this holds for every pool size"),
    "q2a": _array_value(ref.q2a, "Your result for (a)"),
    "q2b": _array_value(ref.q2b, "Your result for (b)"),
    "q2c": _array_value(ref.q2c, "Your result for (c)"),
    "conv2d": _check_conv2d,
    "max_pool2d": _check_max_pool2d,
    "compute_distances_two_loops": _check_distances,
    "compute_distances_one_loop": _check_distances,
    "compute_distances_no_loops": _check_distances,
    "q4_q": _array_value(ref.q4_q, "Your value of q = Wx"),
    "q4_f": _array_value(ref.q4_f, "Your value of f"),
    "q4_dW": _array_value(ref.q4_dW, "Your gradient dW"),
    "q4_dx": _array_value(ref.q4_dx, "Your gradient dx"),
    "forward": _check_forward,
    "backward": _check_backward,
    "grad_W_closed_form": _check_closed_form(ref.grad_W_closed_form),
    "grad_x_closed_form": _check_closed_form(ref.grad_x_closed_form),
}

GRADED_NAMES = tuple(_CHECKERS)
