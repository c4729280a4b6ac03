"""Plain data between the trusted grader and a student's kernel.

The grader sends inputs with :func:`encode` and reads the kernel's reply with
:func:`decode`. Everything the kernel sends is untrusted: :func:`decode` accepts JSON
numbers, strings, booleans, null, lists and the tagged forms below, and nothing else. It
never unpickles and never executes; arrays are rebuilt with ``np.frombuffer`` from a
numeric dtype on a short allow-list, so an array from the kernel is never of object
dtype and carries no code.

Tagged forms (the kernel side is :mod:`autograder.kernel_side`):

``{"$nd": [dtype, shape, base64]}``  numeric array (little-endian bool/int/uint/float)
``{"$tuple": [...]}``                tuple
``{"$dict": [[k, v], ...]}``         dict with any plain keys (``q1b`` has tuple keys)
``{"$complex": [re, im]}``           complex number
``{"$array": [...]}``                an array of non-numeric dtype, as its items
``{"$object": "TypeName"}``          something the kernel could not express as data
"""
from __future__ import annotations

import base64
import binascii
import json
import math

import numpy as np

#: dtypes an array from the kernel may have (little-endian, as the kernel side sends them)
ALLOWED_DTYPES = frozenset({"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8",
                            "<f2", "<f4", "<f8"})
MAX_REPLY_BYTES = 4 * 1024 * 1024   # the largest honest reply (problem 3) is ~100 kB
MAX_ARRAY_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000                 # values in one decoded reply


class WireError(ValueError):
    """The kernel's reply is not plain data of the expected form."""


class Opaque:
    """Something the kernel could not express as data (a class instance, a function...)."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:100]

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"

    def __eq__(self, other) -> bool:
        return isinstance(other, Opaque) and other.type_name == self.type_name

    __hash__ = None


# ------------------------------------------------------------------------------------------
# To the kernel

def encode(value):
    """Trusted inputs -> JSON-able data for :mod:`autograder.kernel_side`.

    Parameters
    ----------
    value : None, bool, int, float, str, tuple, list, dict or numeric ndarray
        Dicts with non-string keys are sent as ``$dict`` pairs.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot send an array of dtype {value.dtype}")
        arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        return {"$nd": [arr.dtype.str, list(arr.shape), base64.b64encode(arr.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the kernel")


def step_ref(index: int, item: int = 0) -> dict:
    """An argument standing for item ``item`` of what request step ``index`` returned."""
    return {"$step": int(index), "item": int(item)}


# ------------------------------------------------------------------------------------------
# From the kernel

def decode(text: str):
    """The kernel's JSON reply -> plain Python data; :class:`WireError` if it is anything else."""
    if not isinstance(text, str) or len(text) > MAX_REPLY_BYTES:
        raise WireError("the reply is not text of a reasonable size")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"the reply is not JSON: {exc}") from None
    try:
        return _plain(raw, 0, [MAX_NODES])
    except RecursionError:
        raise WireError("the reply is nested too deeply") from None


def _plain(obj, depth: int, budget: list):
    """``obj`` as plain data; ``budget[0]`` counts down the values still allowed."""
    budget[0] -= 1
    if budget[0] < 0:
        raise WireError(f"the reply holds more than {MAX_NODES} values")
    if depth > 60:
        raise WireError("the reply is nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, list):
        return [_plain(v, depth + 1, budget) for v in obj]
    if not isinstance(obj, dict):
        raise WireError(f"unexpected {type(obj).__name__} in the reply")
    if len(obj) == 1:
        (tag, body), = obj.items()
        if tag == "$nd":
            return _array(body)
        if tag == "$tuple":
            return tuple(_plain(v, depth + 1, budget) for v in _list(body))
        if tag == "$dict":
            out = {}
            for pair in _list(body):
                key, val = _list(pair, length=2)
                key = _plain(key, depth + 1, budget)
                try:
                    out[key] = _plain(val, depth + 1, budget)
                except TypeError:  # an unhashable key: keep it as data nobody matches
                    raise WireError("a dict key in the reply is not a plain value") from None
            return out
        if tag == "$complex":
            re, im = _list(body, length=2)
            return complex(_number(re), _number(im))
        if tag == "$array":
            return [_plain(v, depth + 1, budget) for v in _list(body)]
        if tag == "$object":
            return Opaque(body if isinstance(body, str) else "object")
    return {str(k): _plain(v, depth + 1, budget) for k, v in obj.items()}


def _list(body, length=None) -> list:
    if not isinstance(body, list) or (length is not None and len(body) != length):
        raise WireError("malformed tagged value in the reply")
    return body


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WireError("expected a number in the reply")
    return float(value)


def _array(body) -> np.ndarray:
    dtype, shape, data = _list(body, length=3)
    if dtype not in ALLOWED_DTYPES:
        raise WireError(f"arrays of dtype {dtype!r} are not accepted")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape):
        raise WireError("malformed array shape in the reply")
    if not isinstance(data, str) or len(data) > MAX_ARRAY_BYTES * 4 // 3 + 8:
        raise WireError("array data in the reply is too large")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise WireError("array data in the reply is not base64") from None
    dt = np.dtype(dtype)
    if math.prod(shape) * dt.itemsize != len(raw):
        raise WireError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dt).reshape(shape).copy()


def extract_reply(text: str, nonce: str) -> str | None:
    """The reply between this request's marker lines in the kernel's stdout, if present."""
    begin, end = f"<<autograder:{nonce}>>\n", f"\n<<autograder:{nonce}:end>>"
    start = text.rfind(begin)
    if start < 0:
        return None
    stop = text.find(end, start + len(begin))
    if stop < 0:
        return None
    return text[start + len(begin):stop]
