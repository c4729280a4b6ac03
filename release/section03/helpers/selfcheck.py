"""Visible tests and "check yourself" cells that speak to students in sentences.

Student-safe: shipped in the release's ``helpers/`` and used by the notebooks' locked cells.

* ``expect_close``, ``expect_shape``, ``expect_value_error``, ``expect_whole_number`` and
  ``expect_bool`` are the visible tests' asserts: a failure is an ``AssertionError`` whose
  message says what is wrong (a shape, a missing message), never a numpy traceback from
  deep inside ``np.allclose``.
* ``check_yourself`` compares a function of yours with your own hand answer in an ungraded
  cell and prints one friendly sentence; it never raises and never writes to stderr, so a
  mismatch costs no points there (each answer is graded on its own).
"""
from __future__ import annotations

import numbers

import numpy as np


def _as_array(value, what: str) -> np.ndarray:
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} should be numbers (a list or numpy array), "
                             f"got {type(value).__name__}") from None


def expect_shape(value, shape: tuple, what: str) -> None:
    """``value`` has ``shape``; otherwise say which shape it has."""
    got = np.shape(value)
    if tuple(got) != tuple(shape):
        raise AssertionError(f"{what} should have shape {tuple(shape)}, but has shape {tuple(got)}")


def expect_close(value, expected, what: str, hint: str = "") -> None:
    """``value`` equals ``expected`` (same shape, numbers within 1e-6); say how it differs."""
    got, want = _as_array(value, what), np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        raise AssertionError(f"{what} should have shape {want.shape}, but has shape {got.shape}"
                             + (f"; {hint}" if hint else ""))
    if not np.allclose(got, want, atol=1e-6):
        raise AssertionError(f"{what} should be {want.tolist()}, but is {got.tolist()}"
                             + (f"; {hint}" if hint else ""))


def expect_value_error(call, what: str) -> None:
    """``call()`` raises ``ValueError`` with a message saying why."""
    try:
        call()
    except ValueError as err:
        if not str(err).strip():
            raise AssertionError(f"{what} raised ValueError without a message; say why the "
                                 "configuration is invalid, e.g. raise ValueError(\"the stride "
                                 "does not fit\")") from None
        return
    except Exception as err:  # noqa: BLE001 -- reported as a sentence
        raise AssertionError(f"{what} should raise ValueError, but raised "
                             f"{type(err).__name__}: {err}") from None
    raise AssertionError(f"{what} is an invalid configuration: it should raise ValueError")


def expect_whole_number(value, what: str) -> None:
    """``value`` is a number without a fractional part (an int, or e.g. 28.0), not a string."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not float(value).is_integer():
        raise AssertionError(f"{what} should be a whole number, got {value!r}")


def expect_bool(value, what: str) -> None:
    """``value`` is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise AssertionError(f"{what} should be True or False, got {value!r}")


def check_yourself(description: str, compute, hand_name: str, hand) -> None:
    """Print whether ``compute()`` agrees with the hand answer ``hand()`` (never raises).

    Parameters
    ----------
    description : str   what ``compute`` computes, e.g. ``"conv2d(I, F)"``
    compute, hand : callables of no arguments (so a missing name is caught here)
    hand_name : str     the hand answer's name, e.g. ``"q2a"``
    """
    try:
        mine = np.asarray(compute(), dtype=float)
    except Exception as err:  # noqa: BLE001 -- a sentence, not a traceback
        print(f"· {description} could not be computed yet ({type(err).__name__}); "
              f"finish it above, then run this cell again.")
        return
    try:
        theirs = np.asarray(hand(), dtype=float)
    except Exception:  # noqa: BLE001
        print(f"· {hand_name} is not answered yet; fill it in above, then run this cell again.")
        return
    if mine.shape == theirs.shape and np.allclose(mine, theirs, atol=1e-6):
        print(f"✓ {description} agrees with your {hand_name}.")
    else:
        print(f"✗ {description} and your {hand_name} disagree, so one of them is wrong: recheck "
              f"both (this cell is not graded; each answer is graded on its own).")


def expect_built_on(value, expected, own, what: str) -> None:
    """``value`` equals ``expected``, or what your own earlier function gives (``own()``).

    For an answer the notebook builds on an earlier one: a slip in the earlier function is
    not counted again here.
    """
    got = tuple(np.asarray(value).tolist()) if np.ndim(value) else value
    if got == tuple(expected):
        return
    try:
        carried = tuple(own())
    except Exception:  # noqa: BLE001 -- your earlier function is not working yet
        carried = None
    if got != carried:
        raise AssertionError(f"{what} should be {tuple(expected)}, but is {got}")
