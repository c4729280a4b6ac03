"""Hidden tests of Section 3, run by the trusted grader outside the student's kernel.

GRADING ONLY: never shipped to students, never imported in a student's kernel.

Grading one answer has two halves, with the student's kernel in between:

1. :func:`plan` picks the inputs -- the handout's cases plus random cases from the
   generator it is given (the grader seeds it from a course secret and the student) --
   and returns a :class:`Plan`: a *request* (plain data: which global to read, or which
   function to call on which arguments) and the trusted half that will judge the answer.
2. The grader sends the request into the kernel (:mod:`autograder.asking`) and decodes
   the reply as plain data (:mod:`autograder.wire`): numbers, strings, numeric arrays, an
   exception's class and message.
3. :func:`judge` compares that data with :mod:`helpers.reference`, checks the source rules
   (:mod:`helpers.rules`), and returns a :class:`Failure` -- a message in a student's
   words that names the catalogued mistake (:mod:`helpers.mistakes`) the answer matches
   -- or None.

Fairness rules kept here: inputs vary, rules do not; any correct style passes (lists for
arrays, numpy scalars, 0.116 vs 0.11600000000000002); an answer is judged on its own --
functions against the reference, or, where the notebook tells students to build on their
own earlier function, against what that function returns (carry-forward credit), never
against the student's hand answers.
"""
from __future__ import annotations

import builtins
import copy
import dataclasses
import math
import warnings
from typing import Callable

import numpy as np

from helpers import mistakes as _mistakes
from helpers import reference as ref
from helpers import rules

# Tolerances: hand answers are typed with a few decimals; functions must agree closely.
HAND_ATOL = 1e-6
FUNC_RTOL, FUNC_ATOL = 1e-7, 1e-8
#: relative rounding allowed for a float32 result (float32 keeps about 7 digits)
F32_RTOL = 1e-5


# ======================================================================================
# What crosses the boundary
# ======================================================================================


@dataclasses.dataclass
class Failure:
    """What a check found: a message for the student, and the mistake it matches, if any."""

    message: str
    slug: str | None = None

    def render(self, name: str) -> str:
        text = f"{name}: {self.message}"
        if self.slug:
            try:
                text += f"\n[mistake: {self.slug}] {_mistakes.by_slug(self.slug, name).explanation}"
            except KeyError:
                text += f"\n[mistake: {self.slug}]"
        return text


@dataclasses.dataclass(frozen=True)
class Raised:
    """An exception the student's code raised, as reported by the kernel."""

    type: str
    classes: tuple
    message: str

    def is_a(self, name: str) -> bool:
        return name in self.classes or name == self.type


@dataclasses.dataclass
class Outcome:
    """One request step's result, decoded from the kernel's reply (plain data only)."""

    value: object = None
    args: tuple = ()
    error: Raised | None = None
    missing: bool = False
    not_callable: str | None = None

    @classmethod
    def from_reply(cls, data) -> "Outcome":
        """Read one step of a decoded reply; anything malformed is an unreadable answer."""
        if not isinstance(data, dict):
            return cls(error=Raised("UnreadableAnswer", ("UnreadableAnswer",), "no result"))
        if data.get("missing") is True:
            return cls(missing=True)
        if "not_callable" in data:
            return cls(not_callable=str(data["not_callable"])[:100])
        raised = data.get("raised")
        if isinstance(raised, dict):
            mro = raised.get("mro")
            mro = tuple(str(m)[:100] for m in mro) if isinstance(mro, list) else ()
            return cls(error=Raised(str(raised.get("type", "Exception"))[:100], mro,
                                    str(raised.get("message", ""))[:2000]))
        args = data.get("args")
        return cls(value=data.get("value"), args=tuple(args) if isinstance(args, list) else ())


@dataclasses.dataclass
class Plan:
    """The request for one answer and the trusted half that judges the reply."""

    name: str
    steps: list
    judge: Callable[..., Failure | None]
    function: bool = True
    #: the answer whose reply this plan's judge also reads (carry-forward), if any
    uses: str | None = None
    #: extra calls this plan's request makes for other answers: args -> step index
    carry: dict = dataclasses.field(default_factory=dict)

    @property
    def request(self) -> dict:
        return {"steps": self.steps}


def _get(name: str) -> dict:
    return {"op": "get", "name": name}


def _call_step(name: str, args: tuple) -> dict:
    from autograder.wire import encode

    return {"op": "call", "name": name, "args": [encode(a) for a in args], "kwargs": {}}


def plan(name: str, rng: np.random.Generator) -> Plan:
    """The request and judge for answer ``name`` alone, with random cases drawn from ``rng``."""
    return plan_notebook([name], lambda _name: rng)[name]


def plan_notebook(names, rng_for) -> dict[str, Plan]:
    """Plans for the graded answers ``names`` of one notebook; ``rng_for(name)`` gives each
    answer's generator.

    Where a notebook builds one answer on another (the shape functions on
    ``conv_output_size``), the calls the later answer's carry-forward needs are made in the
    *earlier* answer's request, shuffled among its own graded cases: the student's function
    cannot tell which of its calls feed the carry-forward, so it cannot answer those
    differently.
    """
    unknown = [n for n in names if n not in _PLANNERS]
    if unknown:
        raise ValueError(f"no hidden test is defined for {unknown}")
    plans = {n: _PLANNERS[n](n, rng_for(n)) for n in names if n != "conv_output_size"}
    if "conv_output_size" in names:
        extra = sorted({args for p in plans.values() if p.uses == "conv_output_size"
                        for args in p.carry})
        plans["conv_output_size"] = _plan_conv_output_size("conv_output_size",
                                                           rng_for("conv_output_size"), extra)
    return plans


def judge(the_plan: Plan, reply, cells: list[rules.Cell], others: dict | None = None) -> Failure | None:
    """The verdict on one answer.

    Parameters
    ----------
    the_plan : Plan       from :func:`plan` or :func:`plan_notebook`
    reply : list or str   the decoded reply's steps, or why there is no reply (a sentence)
    cells : list of rules.Cell   the notebook's code cells, for the source rules
    others : dict         name -> (Plan, reply) of the notebook's other answers, for
                          carry-forward (``the_plan.uses``)
    """
    broken = rules.violations(the_plan.name, cells, function=the_plan.function)
    if broken:
        return Failure(broken[0].message, broken[0].slug)
    if isinstance(reply, str):
        return Failure(f"could not be checked: {reply}")
    if not isinstance(reply, list) or len(reply) != len(the_plan.steps):
        return Failure("could not be checked: the notebook did not answer the grader's questions.")
    outcomes = [Outcome.from_reply(step) for step in reply]
    if the_plan.uses is None:
        return the_plan.judge(outcomes)
    used = (others or {}).get(the_plan.uses)
    carried = None
    if used is not None and isinstance(used[1], list) and len(used[1]) == len(used[0].steps):
        carried = {args: Outcome.from_reply(used[1][i]) for args, i in used[0].carry.items()}
    return the_plan.judge(outcomes, carried)


# ======================================================================================
# Converting answers to plain numbers
# ======================================================================================


def _as_float_array(value, what: str) -> np.ndarray:
    """``value`` as a float ndarray, or a TypeError with a readable message."""
    if value is None:
        raise TypeError(f"{what} is None; did you forget to return or assign it?")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} should be numbers (a list or numpy array), got {_kind(value)}") from exc
    return arr


def _kind(value) -> str:
    from autograder.wire import Opaque

    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    return type(value).__name__


def _as_int(value, what: str) -> int:
    """An int-valued number (int, or a whole float such as 28.0) as an int."""
    if isinstance(value, bool):
        raise TypeError(f"{what} should be a whole number, got the bool {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        return _as_int(value.item(), what)
    raise TypeError(f"{what} should be a whole number, got {_short(value)}")


def _as_shape(value, what: str) -> tuple:
    """A shape given as a tuple, list or array of whole numbers, as a tuple of ints."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{what} should be a shape like (W, H, C), got {_short(value)}")
    return tuple(_as_int(v, what) for v in value)


def _short(value) -> str:
    """A short description of a student's value (never more than a line)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(value) -> str:
    """Short human description of an argument: arrays by shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} ({value.dtype})"
    if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
        return "(" + ", ".join(_describe(v) for v in value) + ")"
    return repr(value)


# ======================================================================================
# Judging calls of a student function
# ======================================================================================


def _call(fn, *args):
    """Call trusted code (the reference or a catalogued mistake) on copies of ``args``.

    Returns ``(result, error)``.
    """
    working = [copy.deepcopy(a) for a in args]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return fn(*working), None
        except Exception as exc:  # noqa: BLE001 -- a mistake's model may raise anything
            return None, exc


def _modified(sent: tuple, returned: tuple) -> bool:
    """Whether an array argument came back from the call changed."""
    for before, after in zip(sent, returned):
        if not isinstance(before, np.ndarray):
            continue
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            return True
        if not np.array_equal(before, after, equal_nan=before.dtype.kind == "f"):
            return True
    return False


def _same_outcome(out: Outcome, m_result, m_error, compare) -> bool:
    """Whether the student's outcome and a mistake model's behave alike."""
    if out.error is not None or m_error is not None:
        return out.error is not None and out.error.is_a("ValueError") and isinstance(m_error, ValueError)
    try:
        return compare(out.value, m_result)
    except Exception:  # noqa: BLE001 -- an unconvertible result matches nothing
        return False


def _diagnose(name, args, out: Outcome, compare, adapt=None) -> str | None:
    """The slug of the first output mistake of ``name`` that behaves like the student's answer."""
    for mistake in _mistakes.for_answer(name):
        if mistake.kind != "output":
            continue
        model = mistake.build() if adapt is None else adapt(mistake.build())
        m_result, m_error = _call(model, *args)
        if _same_outcome(out, m_result, m_error, compare):
            return mistake.slug
    return None


def _unavailable(name: str, out: Outcome) -> Failure | None:
    """A failure when the answer cannot be called at all (undefined, a stub, not a function)."""
    if out.missing:
        return Failure(f"`{name}` is not defined. Run its answer cell (and fix any error in it).")
    if out.not_callable is not None:
        return Failure(f"expected a function, got {out.not_callable}. Define it with `def {name}(...)`.")
    if out.error is not None and out.error.is_a("NotImplementedError"):
        return Failure("not answered yet: the cell still raises NotImplementedError. Replace it with your code.")
    return None


#: said after a failure on a hidden case: its inputs and expected result are not shown
HIDDEN_NOTE = ("Hidden cases' inputs and expected results are not shown; try your function "
               "on inputs of your own (other shapes, strides, paddings).")


def _case_label(name, args, shown: bool) -> str:
    """How a failing case is named: the call in full for the handout's own cases, otherwise
    only that it is a hidden one (its inputs are not shown)."""
    if shown:
        return f"{name}({', '.join(_describe(a) for a in args)})"
    return f"{name} on a hidden test case"


def _judge_calls(name, cases, outcomes, expected_of, compare, describe, *, shown=0, extract=None,
                 adapt=None, modified_slug=None, check_modified=True) -> Failure | None:
    """Judge one student function on each case; report the first disagreement.

    ``expected_of(i, args)`` returns the trusted ``(result, error)`` for case ``i``;
    ``extract`` turns the student's return value into what is compared (raising
    TypeError with a readable message when it has the wrong form). The first ``shown``
    cases are the handout's own: a failure there shows the inputs and the expected result;
    on any other case it shows neither (``describe(value, expected, hidden=True)``), only
    what the student's function did.
    """
    for i, (args, out) in enumerate(zip(cases, outcomes)):
        failure = _unavailable(name, out)
        if failure:
            return failure
        failure = _judge_case(name, args, out, expected_of(i, args), compare, describe, i < shown,
                              extract=extract, adapt=adapt, modified_slug=modified_slug,
                              check_modified=check_modified)
        if failure is not None:
            if i >= shown:
                failure.message += " " + HIDDEN_NOTE
            return failure
    return None


def _judge_case(name, args, out, trusted, compare, describe, shown, *, extract, adapt,
                modified_slug, check_modified) -> Failure | None:
    """The failure on one case (see :func:`_judge_calls`), or None when it passes.

    On a hidden case nothing the student's function sent back is quoted either (an exception's
    message, a returned value, a converter's message about it): the function saw the hidden
    inputs, so what it returns could carry them into the feedback.
    """
    call = _case_label(name, args, shown)
    expected, expected_error = trusted
    error, value = out.error, out.value
    said = _short if shown else _kind_of
    if error is None and extract is not None:
        try:
            value = extract(value)
        except TypeError as exc:
            return Failure(f"{call}: {exc}" if shown else f"{call} returned {said(value)}, not the "
                           "kind of result asked for.")
        out = dataclasses.replace(out, value=value)
    if expected_error is not None:  # an invalid configuration
        why = f"because {expected_error}" if shown else "because the configuration is invalid"
        if error is not None and error.is_a("ValueError"):
            if not error.message.strip():
                return Failure(f"{call} raised ValueError without a message; say why the "
                               "configuration is invalid, e.g. raise ValueError(\"stride does not fit\").")
            return None
        slug = _diagnose(name, args, out, compare, adapt)
        if error is not None:
            return Failure(f"{call} should raise ValueError ({why}), but raised {_raised(error, shown)}", slug)
        return Failure(f"{call} should raise ValueError {why}, "
                       f"but returned {said(value)}.", slug or _invalid_slug(name))
    if error is not None:
        return Failure(f"{call} raised {_raised(error, shown)}", _diagnose(name, args, out, compare, adapt))
    if check_modified and _modified(args, out.args):
        return Failure(f"{call} changed its input arrays; leave the inputs unchanged "
                       "(work on a copy, e.g. x = np.array(x, dtype=float)).", modified_slug)
    try:
        ok = compare(value, expected)
    except TypeError as exc:
        return Failure(f"{call}: {exc}" if shown else f"{call} returned {said(value)}, not the "
                       "kind of result asked for.")
    if not ok:
        try:
            what = describe(value, expected, hidden=not shown)
        except (TypeError, ValueError):  # a result too malformed to describe (dx = None, say)
            what = "the result is not right."
        return Failure(f"{call}: {what}", _diagnose(name, args, out, compare, adapt))
    return None


#: exception classes whose names a hidden case's failure may show (a student's own class name
#: could spell out the hidden inputs)
_BUILTIN_ERRORS = frozenset(n for n in dir(builtins) if isinstance(getattr(builtins, n), type)
                            and issubclass(getattr(builtins, n), BaseException))


def _raised(error: Raised, shown: bool) -> str:
    """An exception as a failure names it: in full on a handout case; on a hidden case its
    built-in class only, never its message."""
    if shown:
        return f"{error.type}: {error.message}"
    kind = next((c for c in (error.type,) + tuple(error.classes) if c in _BUILTIN_ERRORS), "an exception")
    return f"{kind} (a hidden case's error message is not shown)."


def _kind_of(value) -> str:
    """What kind of thing a value is, without its contents (nor a class name of the student's)."""
    from autograder.wire import Opaque

    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return "an array"
    if isinstance(value, Opaque):
        return "an object that is not plain data"
    kind = _kind(value)
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _reference(fn):
    return lambda i, args: _call(fn, *args)


def _invalid_slug(name):
    return "floor-hides-invalid" if any(m.slug == "floor-hides-invalid" for m in _mistakes.for_answer(name)) else None


def function_plan(name, cases, reference, compare, describe, **options) -> Plan:
    """A plan calling the student's ``name`` on each case and judging it against ``reference``.

    ``compare(student_value, expected) -> bool`` and ``describe(student_value, expected) -> str``
    work on plain data; see :func:`_judge_calls` for ``options``.
    """
    steps = [_call_step(name, args) for args in cases]
    return Plan(name, steps, lambda outcomes: _judge_calls(
        name, cases, outcomes, _reference(reference), compare, describe, **options))


# ======================================================================================
# Comparators (the student's side is decoded plain data)
# ======================================================================================


def _tolerances(result, want, atol: float, rtol: float) -> tuple[float, float]:
    """``(atol, rtol)`` for comparing ``result``: float32 results get float32's rounding.

    A float result in float32 (``np.zeros(..., dtype=np.float32)``) is a correct style: its
    entries may differ from the float64 reference by float32's rounding of the terms summed,
    about 1e-5 of the largest value involved.
    """
    if isinstance(result, np.ndarray) and result.dtype == np.float32:
        scale = float(np.max(np.abs(want))) if want.size else 1.0
        return max(atol, F32_RTOL * max(1.0, scale)), max(rtol, F32_RTOL)
    return atol, rtol


def _arrays_close(result, expected, atol=FUNC_ATOL, rtol=FUNC_RTOL) -> bool:
    got = _as_float_array(result, "the result")
    want = np.asarray(expected, dtype=np.float64)
    atol, rtol = _tolerances(result, want, atol, rtol)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _explain_arrays(result, expected, hidden=False) -> str:
    """What is wrong with an array result; ``hidden``: without the expected shape or values, and
    without the result's own shape or counts (a student's function can shape them after the
    hidden inputs)."""
    got = _as_float_array(result, "the result")
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        hint = " (that is the transposed shape)" if got.shape == want.T.shape and want.ndim == 2 else ""
        if hidden:
            return f"the result does not have the expected shape{hint}."
        return f"expected shape {want.shape}, got {got.shape}{hint}."
    atol, rtol = _tolerances(result, want, FUNC_ATOL, FUNC_RTOL)
    bad = np.argwhere(~np.isclose(got, want, rtol=rtol, atol=atol))
    if not len(bad):
        return "the entries are not close enough to the expected values."
    if hidden:
        return "some entries are wrong."
    where = tuple(int(i) for i in bad[0])
    return (f"{len(bad)} of {want.size} entries are wrong; e.g. at index {where} expected "
            f"{want[where]:.6g}, got {got[where]:.6g}.")


def ints_equal(result, expected) -> bool:
    """Whether the student's whole number equals ``expected`` (28.0 counts as 28)."""
    return _as_int(result, "the result") == expected


def _shapes_equal(result, expected) -> bool:
    return _as_shape(result, "the result") == tuple(expected)


def _pairs_close(result, expected) -> bool:
    """For functions returning two arrays, e.g. (dW, dx)."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"should return a pair (dW, dx), got {_short(result)}")
    return all(_arrays_close(r, e) for r, e in zip(result, expected))


def _explain_plain(result, expected, hidden=False) -> str:
    """What is wrong with a number or shape; ``hidden``: without the expected one."""
    if hidden:
        return f"returned {_kind_of(result)}, not the expected result."
    return f"expected {expected}, got {_short(result)}."


# ======================================================================================
# Problem 1
# ======================================================================================


#: the handout's own (n, F, S, P): 1(b)'s five, AlexNet's conv and pool layers, 1(f)'s layer
HANDOUT_SIZES = [(32, 5, 1, 0), (32, 5, 2, 0), (32, 5, 3, 0), (32, 5, 2, 3), (32, 5, 3, 3),
                 (227, 11, 4, 0), (55, 3, 2, 0), (31, 3, 2, 1)]


def _size_cases(rng, count=40):
    """(n, F, S, P) tuples: the handout's (first), edge cases, valid ones built from an output
    size, then invalid ones."""
    cases = HANDOUT_SIZES + [(7, 3, 2, 1), (5, 5, 1, 0), (1, 1, 1, 0)]
    for _ in range(count):
        S, P, F, out = (int(v) for v in (rng.integers(1, 5), rng.integers(0, 4), rng.integers(1, 8), rng.integers(1, 20)))
        n = (out - 1) * S + F - 2 * P
        if n >= 1:
            cases.append((n, F, S, P))
    cases += [(10, 4, 4, 0), (4, 7, 1, 1), (0, 1, 1, 0),
              (5, 0, 1, 0), (5, 3, 0, 0), (5, 3, 1, -1)]
    return cases


def _plan_conv_output_size(name, rng, extra=()):
    """The size function's plan; ``extra`` calls (for carry-forward) are shuffled in."""
    cases = _size_cases(rng)
    calls = [(args, i) for i, args in enumerate(cases)] + [(tuple(args), None) for args in extra]
    calls = [calls[i] for i in rng.permutation(len(calls))]
    steps = [_call_step(name, args) for args, _case in calls]
    step_of_case = {case: i for i, (_args, case) in enumerate(calls) if case is not None}
    carry = {args: i for i, (args, case) in enumerate(calls) if case is None}

    def judge_size(outcomes):  # in the cases' own order: the handout's cases come first
        return _judge_calls(name, cases, [outcomes[step_of_case[c]] for c in range(len(cases))],
                            _reference(ref.conv_output_size), ints_equal, _explain_plain,
                            shown=len(HANDOUT_SIZES))

    return Plan(name, steps, judge_size, carry=carry)


def _shape_cases(rng, with_k: bool):
    cases = []
    for n, F, S, P in _size_cases(rng, 25):
        m = max(1, n + int(rng.integers(-2, 3)) * S)
        shape = (n, m, int(rng.integers(1, 6)))
        cases.append((shape, F, S, P) + ((int(rng.integers(1, 65)),) if with_k else ()))
    return cases


def _carry_forward_shape_plan(name, cases, reference, depth_of, shown) -> Plan:
    """A shape function the notebook builds on ``conv_output_size``.

    The answer passes a case if it agrees with the reference, or with what the student's
    own ``conv_output_size`` gave for the two sides (carry-forward: one slip in
    ``conv_output_size`` costs its own points only). Those sizes come from
    ``conv_output_size``'s request (see :func:`plan_notebook`). The first ``shown`` cases
    are the handout's.
    """
    steps = [_call_step(name, args) for args in cases]
    sides = [((shape[0], F, S, P), (shape[1], F, S, P)) for shape, F, S, P, *_ in cases]

    def judge_shapes(outcomes, carried_sizes=None):
        carried_sizes = carried_sizes or {}
        numbers = sum(1 for o in carried_sizes.values() if o.error is None and not o.missing)
        if numbers * 2 < len(carried_sizes):  # not a working size function: nothing to build on
            carried_sizes = {}
        carried = _carried_expectations(cases, sides, carried_sizes, depth_of)
        for i, (args, out) in enumerate(zip(cases, outcomes)):
            failure = _judge_calls(name, [args], [out], lambda _i, a: _call(reference, *a),
                                   _shapes_equal, _explain_plain, shown=int(i < shown))
            if failure is None:
                continue
            unanswered = _unavailable(name, out)
            if unanswered is not None:  # a stub is not an answer, whatever the size function does
                return unanswered
            if isinstance(carried[i], Raised):  # the size function crashed: the same crash is carried
                if _same_crash(out.error, carried[i]):
                    continue
            elif carried[i] is not None and _judge_calls(name, [args], [out], lambda _i, a: carried[i],
                                                       _shapes_equal, _explain_plain) is None:
                continue
            return failure
        return None

    return Plan(name, steps, judge_shapes, uses="conv_output_size",
                carry={side: None for pair in sides for side in pair})


def _same_crash(error: Raised | None, carried: Raised) -> bool:
    """Whether a shape function's exception is its size function's crash, passed on.

    The same class and message, and never an unanswered stub's NotImplementedError: two
    stubs raising alike agree on nothing.
    """
    return (error is not None and not carried.is_a("NotImplementedError")
            and error.type == carried.type and error.message == carried.message)


def _carried_expectations(cases, sides, sizes: dict, depth_of) -> list:
    """Per case, the ``(result, error)`` the student's own ``conv_output_size`` implies, or None."""
    expected = []
    for args, (side_w, side_h) in zip(cases, sides):
        w, h = sizes.get(side_w), sizes.get(side_h)
        if w is None or h is None or any(o.missing or o.not_callable for o in (w, h)):
            expected.append(None)
        elif any(o.error is not None and not o.error.is_a("ValueError") for o in (w, h)):
            expected.append(next(o.error for o in (w, h) if o.error is not None))  # a crash, carried
        elif w.error is not None or h.error is not None:
            # a refusal carries nothing: "raise ValueError" would become the expected answer
            expected.append(None)
        else:
            try:
                expected.append(((_as_int(w.value, "size"), _as_int(h.value, "size"), depth_of(args)), None))
            except TypeError:
                expected.append(None)
    return expected


def _plan_conv_output_shape(name, rng):
    cases = [((32, 32, 3), 5, 1, 0, 1), ((227, 227, 3), 11, 4, 0, 96)] + _shape_cases(rng, True)
    return _carry_forward_shape_plan(name, cases, ref.conv_output_shape, lambda a: a[4], shown=2)


def _plan_pool_output_shape(name, rng):
    cases = [((55, 55, 96), 3, 2, 0), ((4, 4, 1), 3, 3, 1)] + _shape_cases(rng, False)
    return _carry_forward_shape_plan(name, cases, ref.pool_output_shape, lambda a: a[0][2], shown=2)


def _plan_conv_param_count(name, rng):
    cases = [(11, 3, 96), (3, 5, 25), (1, 1, 1)] + [tuple(int(v) for v in rng.integers(1, 12, 3)) for _ in range(20)]
    return function_plan(name, cases, ref.conv_param_count, ints_equal, _explain_plain, shown=2)


# ======================================================================================
# Hand answers (values)
# ======================================================================================


def _value_plan(expected, compare, what):
    def planner(name, rng):
        def judge_value(outcomes):
            out = outcomes[0]
            if out.missing:
                return Failure("not answered yet: assign your answer to "
                               f"`{name}` in its cell (and run it).")
            return _judge_value(name, out.value, expected, compare, what)
        return Plan(name, [_get(name)], judge_value, function=False)
    return planner


def _judge_value(name, value, expected, compare, what):
    """A hand-worked value: right or not, and which mistake it matches. Never shows the answer."""
    try:
        ok, problem = compare(value, expected), None
    except TypeError as exc:
        ok, problem = False, str(exc).replace("the result", name)
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
    return Failure(problem or f"{what} is not right yet. Recheck it against the reference material.", slug)


def _int_value(expected, what):
    return _value_plan(expected, ints_equal, what)


def _shape_value(expected, what):
    return _value_plan(expected, _shapes_equal, what)


def _array_value(expected, what):
    return _value_plan(expected, lambda v, e: _hand_arrays_close(v, e), what)


def _hand_arrays_close(value, expected) -> bool:
    got = _as_float_array(value, "the result")
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        raise TypeError(f"the result should have shape {want.shape}, got {got.shape}")
    return bool(np.allclose(got, want, atol=HAND_ATOL, rtol=0))


def _bool_equal(value, expected) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"the result should be True or False, got {_short(value)}")
    return value == expected


def _bool_value(expected, what):
    return _value_plan(expected, _bool_equal, what)


def _q1b_equal(value, expected) -> bool:
    if not isinstance(value, dict):
        raise TypeError(f"q1b should be a dict {{(S, P): shape or None}}, got {_kind(value)}")
    plain = {}
    for key, shape in value.items():
        key = _as_shape(key, "a key of q1b")
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
        x = rng.integers(-9, 10, (h, w)) if i % 3 == 0 else rng.normal(size=(h, w))
        k = rng.integers(-3, 4, (kh, kw))
        cases.append((x, k if i % 3 == 0 else k.astype(float), S, P))
    cases += [
        (np.arange(12.0).reshape(3, 4), np.ones((3, 4)), 1, 0),   # kernel as large as the input
        (rng.normal(size=(5, 5)), rng.normal(size=(2, 2)), 2, 0),  # stride does not fit: invalid
        (rng.normal(size=(2, 2)), rng.normal(size=(3, 3)), 1, 0),  # kernel larger than input
    ]
    return cases


def _close_to_float32(result, expected) -> bool:
    """Arrays equal up to float32's rounding: computing in float32 is a correct style, whatever
    dtype the result is returned in."""
    want = np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    return _arrays_close(result, expected, rtol=F32_RTOL, atol=F32_RTOL * max(1.0, scale))


def _plan_conv2d(name, rng):
    return function_plan(name, _conv_cases(rng), ref.conv2d, _close_to_float32, _explain_arrays, shown=2)


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


def _plan_max_pool2d(name, rng):
    return function_plan(name, _pool_cases(rng), ref.max_pool2d, _close_to_float32, _explain_arrays, shown=1)


# ======================================================================================
# Problem 3 (the loop and numpy-only rules are in helpers.rules)
# ======================================================================================


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


def _plan_distances(name, rng):
    slug = "modified-input" if any(m.slug == "modified-input" for m in _mistakes.for_answer(name)) else None
    # float32 inputs summed in float32 are a correct style: allow float32's rounding (1e-5)
    return function_plan(name, _distance_cases(rng), ref.compute_distances,
                         lambda r, e: _arrays_close(r, e, rtol=1e-5, atol=1e-6),
                         _explain_arrays, modified_slug=slug)


# ======================================================================================
# Problem 4
# ======================================================================================


def _backprop_cases(rng):
    cases = [(ref.W4.copy(), ref.x4.copy())]
    for n in (1, 2, 3, 5, 8):
        cases.append((rng.normal(size=(n, n)), rng.normal(size=n)))
    return cases


def _f_of(value):
    """The f of a forward pass's ``(f, cache)``."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"forward should return a pair (f, cache), got {_short(value)}")
    return value[0]


def _f_only(forward_fn):
    return lambda W, x: _f_of(forward_fn(W, x))


def _explain_f(result, expected, hidden=False) -> str:
    if hidden:
        return "returned a wrong f."
    return f"expected f = {expected:.6g}, got {_short(result)}."


def _plan_forward(name, rng):
    return function_plan(name, _backprop_cases(rng), lambda W, x: ref.forward(W, x)[0],
                          _arrays_close, _explain_f,
                          extract=_f_of, adapt=_f_only, shown=1)


def _plan_backward(name, rng):
    """Backward is called on the student's own forward's cache (carry-forward).

    Each case also calls it on the reference's cache ``(W, x, q)`` sent as data, so a
    student whose forward is broken but whose backward is right for that layout keeps the
    backward points.
    """
    dfs = (1.0, 1.0, 0.5, -2.0, 3.0, 1.0)
    cases = [(W, x, df) for (W, x), df in zip(_backprop_cases(rng), dfs)]
    steps, own, on_ref = [], [], []
    for W, x, df in cases:
        steps.append(_call_step("forward", (W, x)))
        tail = () if df == 1.0 else (df,)
        own.append(len(steps))
        step = _call_step(name, tail)
        step["args"].insert(0, {"$step": len(steps) - 1, "item": 1})  # forward's cache
        steps.append(step)
        on_ref.append(len(steps))
        steps.append(_call_step(name, (ref.forward(W, x)[1],) + tail))
    ref_cases = [(ref.forward(W, x)[1], df) for W, x, df in cases]

    def expected_of(i, args):
        return _call(ref.backward, *ref_cases[i])

    def explain(r, e, hidden=False):
        return "dW or dx is wrong: " + "; ".join(
            f"{label}: {_explain_arrays(got, want, hidden)}" for label, got, want in zip(("dW", "dx"), r, e)
            if not _arrays_close(got, want))

    def judge_backward(outcomes):
        forwards = [outcomes[i - 1] for i in own]
        forward_ok = all(f.error is None and not f.missing and f.not_callable is None for f in forwards)
        mine = _judge_calls(name, cases, [outcomes[i] for i in own], expected_of, _pairs_close, explain,
                            shown=1, check_modified=False) \
            if forward_ok else Failure("could not be run on your forward's cache (forward is missing or raised).")
        if mine is None:
            return None
        own_caches = [_own_cache(f.value, W, x) for f, (W, x, _df) in zip(forwards, cases)]
        if forward_ok and all(c is not None for c in own_caches):
            # right for what the student's own forward stored (a slip in q costs forward only)
            on_own = _judge_calls(name, cases, [outcomes[i] for i in own],
                                  lambda i, _a: _call(ref.backward, own_caches[i], cases[i][2]),
                                  _pairs_close, explain, shown=1, check_modified=False)
            if on_own is None:
                return None
        theirs = _judge_calls(name, ref_cases, [outcomes[i] for i in on_ref], expected_of, _pairs_close,
                              explain, shown=1, check_modified=False)
        if theirs is None:
            return None
        failure = mine if forward_ok else theirs
        if failure.slug is None:
            failure.slug = _diagnose_backward([outcomes[i] for i in on_ref], ref_cases)
        return failure

    return Plan(name, steps, judge_backward)


def _own_cache(forward_value, W, x):
    """``(W, x, q)`` read from the cache the student's forward returned, or None.

    The notebook lets the cache be any tuple, list or dict; its entries are recognised by
    value: the W and the x the grader sent, and one more vector of x's shape, q.
    """
    if not isinstance(forward_value, (tuple, list)) or len(forward_value) != 2:
        return None
    cache = forward_value[1]
    entries = list(cache.values()) if isinstance(cache, dict) else list(cache) \
        if isinstance(cache, (tuple, list)) else []
    arrays = []
    for entry in entries:
        try:
            arrays.append(_as_float_array(entry, "a cache entry"))
        except TypeError:
            continue
    W_at = [i for i, a in enumerate(arrays) if a.shape == W.shape and np.allclose(a, W)]
    x_at = [i for i, a in enumerate(arrays) if a.shape == x.shape and np.allclose(a, x)]
    if not W_at or not x_at:
        return None
    q = [a for i, a in enumerate(arrays) if a.shape == x.shape and i not in x_at + W_at]
    if len(q) != 1 or not any(np.allclose(q[0], known) for known in _known_qs(W, x)):
        return None  # a q nobody's forward computes (zeros, say) is not carried forward
    return (arrays[W_at[0]], arrays[x_at[0]], q[0])


def _known_qs(W, x) -> list:
    """The q of the reference forward and of each catalogued forward mistake, for (W, x)."""
    qs = [ref.forward(W, x)[1][2]]
    for mistake in _mistakes.for_answer("forward"):
        value, error = _call(mistake.build(), W, x)
        if error is None and isinstance(value, (tuple, list)) and len(value) == 2:
            cache = value[1]
            entries = list(cache.values()) if isinstance(cache, dict) else list(cache) \
                if isinstance(cache, (tuple, list)) else []
            qs += [np.asarray(e, dtype=float) for e in entries
                   if np.shape(e) == np.shape(x) and not np.allclose(e, x)]
    return qs


def _diagnose_backward(outcomes, ref_cases):
    """Name a backward mistake: its gradients on the reference caches agree with a model's."""
    for mistake in _mistakes.for_answer("backward"):
        model = mistake.build()
        if all(out.error is None and _same_outcome(out, *_call(model, *args), _pairs_close)
               for out, args in zip(outcomes, ref_cases)):
            return mistake.slug
    return None


def _closed_form(reference):
    def planner(name, rng):
        return function_plan(name, _backprop_cases(rng), reference, _arrays_close, _explain_arrays, shown=1)
    return planner


# ======================================================================================
# Registry: every graded name of the notebooks
# ======================================================================================

_PLANNERS = {
    "conv_output_size": _plan_conv_output_size,
    "conv_output_shape": _plan_conv_output_shape,
    "q1b": _value_plan(ref.q1b, _q1b_equal, "Your table of output shapes"),
    "q1c": _shape_value(ref.q1c, "The output shape of AlexNet's first conv layer"),
    "conv_param_count": _plan_conv_param_count,
    "q1e": _int_value(ref.q1e, "The parameter count of AlexNet's first conv layer"),
    "q1f": _int_value(ref.q1f, "The parameter count of the 31x31x5 layer"),
    "pool_output_shape": _plan_pool_output_shape,
    "q1g_shape": _shape_value(ref.q1g_shape, "The pool layer's output shape"),
    "q1g_params": _int_value(ref.q1g_params, "The pool layer's parameter count"),
    "q1h_changes_channels": _bool_value(ref.q1h_changes_channels, "Whether the pool changed the channels"),
    "q1h_all_pool_sizes": _bool_value(ref.q1h_all_pool_sizes, "Whether this holds for every pool size"),
    "q2a": _array_value(ref.q2a, "Your result for (a)"),
    "q2b": _array_value(ref.q2b, "Your result for (b)"),
    "q2c": _array_value(ref.q2c, "Your result for (c)"),
    "conv2d": _plan_conv2d,
    "max_pool2d": _plan_max_pool2d,
    "compute_distances_two_loops": _plan_distances,
    "compute_distances_one_loop": _plan_distances,
    "compute_distances_no_loops": _plan_distances,
    "q4_q": _array_value(ref.q4_q, "Your value of q = Wx"),
    "q4_f": _array_value(ref.q4_f, "Your value of f"),
    "q4_dW": _array_value(ref.q4_dW, "Your gradient dW"),
    "q4_dx": _array_value(ref.q4_dx, "Your gradient dx"),
    "forward": _plan_forward,
    "backward": _plan_backward,
    "grad_W_closed_form": _closed_form(ref.grad_W_closed_form),
    "grad_x_closed_form": _closed_form(ref.grad_x_closed_form),
}

GRADED_NAMES = tuple(_PLANNERS)
