"""The code the grader sends into a student's kernel to ask for the student's answers.

This file is *sent as text* (never imported by the kernel from disk): the trusted grader
(:mod:`autograder.asking`) executes it in the student's kernel, in a private namespace,
together with one request, right after the test cell of the answer it asks about. It
therefore uses only the standard library and numpy, which the kernel has.

Nothing here is trusted. It runs in the student's process, where the student's code may
have changed anything; all it can do is hand back data, which the grader decodes with
:func:`autograder.wire.decode` as plain numbers, strings and numeric arrays and judges
in its own process. A student who subverts this code can only send back wrong data.

A request is JSON: ``{"steps": [step, ...]}`` where a step is

* ``{"op": "get", "name": N}``: the value of the global ``N``;
* ``{"op": "call", "name": N, "args": [...], "kwargs": {...}}``: call the global ``N`` on
  fresh copies of the arguments; an argument ``{"$step": i, "item": k}`` stands for item
  ``k`` of what step ``i`` returned (an object that never leaves the kernel, such as a
  forward pass's cache).

The reply, printed between two marker lines holding the request's nonce, is
``{"steps": [outcome, ...]}`` with one outcome per step:
``{"value": V, "args": [A, ...]}`` (the arguments after the call, so the grader can see
whether they were modified), ``{"raised": {"type": T, "mro": [...], "message": M}}``,
``{"missing": true}`` or ``{"not_callable": T}``.
"""
import base64
import contextlib
import io
import json
import numbers
import sys
import warnings

import numpy as np

_MAX_ITEMS = 100_000
_MAX_TEXT = 2_000


def _decode(obj, results):
    """Grader's JSON -> Python objects (arrays, tuples, dicts with tuple keys)."""
    if isinstance(obj, list):
        return [_decode(v, results) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "$nd" in obj:
        dtype, shape, data = obj["$nd"]
        return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dtype)).reshape(shape).copy()
    if "$tuple" in obj:
        return tuple(_decode(v, results) for v in obj["$tuple"])
    if "$dict" in obj:
        return {_decode(k, results): _decode(v, results) for k, v in obj["$dict"]}
    if "$step" in obj:
        return results[obj["$step"]][obj.get("item", 0)]
    return {k: _decode(v, results) for k, v in obj.items()}


def _encode(value, depth=0):
    """A student's value -> JSON-able plain data (numbers, strings, lists, numeric arrays)."""
    if depth > 20:
        return {"$object": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value[:_MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, numbers.Complex):
        return {"$complex": [float(value.real), float(value.imag)]}
    if isinstance(value, np.ndarray):
        if value.size > _MAX_ITEMS:
            return {"$object": f"array of {value.size} entries (too large to check)"}
        if value.dtype.kind in "biuf":
            arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
            return {"$nd": [arr.dtype.str, list(arr.shape), base64.b64encode(arr.tobytes()).decode()]}
        return {"$array": [_encode(v, depth + 1) for v in value.tolist()]} if value.ndim else \
            _encode(value.item(), depth + 1)
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, depth + 1) for v in value[:_MAX_ITEMS]]}
    if isinstance(value, list):
        return [_encode(v, depth + 1) for v in value[:_MAX_ITEMS]]
    if isinstance(value, dict):
        return {"$dict": [[_encode(k, depth + 1), _encode(v, depth + 1)]
                          for k, v in list(value.items())[:_MAX_ITEMS]]}
    if hasattr(value, "__array__") or hasattr(value, "tolist"):
        try:
            return _encode(np.asarray(value), depth + 1)
        except Exception:  # noqa: BLE001 -- described below instead
            pass
    return {"$object": type(value).__name__}


def _raised(exc):
    return {"raised": {"type": type(exc).__name__,
                       "mro": [c.__name__ for c in type(exc).__mro__],
                       "message": str(exc)[:_MAX_TEXT]}}


def _run_step(step, namespace, results):
    name = step["name"]
    if name not in namespace:
        results.append(None)
        return {"missing": True}
    target = namespace[name]
    if step["op"] == "get":
        results.append(target)
        return {"value": _encode(target)}
    if not callable(target):
        results.append(None)
        return {"not_callable": type(target).__name__}
    args = _decode(step.get("args", []), results)
    kwargs = _decode(step.get("kwargs", {}), results)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = target(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 -- the student's error is the answer
            results.append(None)
            return _raised(exc)
    results.append(value)
    return {"value": _encode(value), "args": [_encode(a) for a in args]}


def answer(namespace, request_text, nonce):
    """Run the request against the notebook's globals and print the reply between markers."""
    out = sys.stdout
    request = json.loads(request_text)
    results, outcomes = [], []
    for step in request["steps"]:
        try:
            outcomes.append(_run_step(step, namespace, results))
        except Exception as exc:  # noqa: BLE001 -- e.g. an answer that cannot be encoded
            results.append(None)
            outcomes.append(_raised(exc))
    reply = json.dumps({"steps": outcomes}, allow_nan=True)
    out.write(f"\n<<autograder:{nonce}>>\n{reply}\n<<autograder:{nonce}:end>>\n")
    out.flush()
