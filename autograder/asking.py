"""Asking a student's kernel for the student's answers, as plain data.

The trusted grader never runs hidden tests in the kernel. After the test cell of an
answer has run, :class:`autograder.execute.SandboxedExecute` sends the kernel the code
built by :func:`request_code`: :mod:`autograder.kernel_side` (as text) plus one request
(plain JSON: read a global, or call a function on given arguments). The kernel prints the
reply between two marker lines holding a fresh nonce; :func:`read_reply` finds it in the
stream outputs and decodes it with :func:`autograder.wire.decode` -- plain data only,
never executed or unpickled.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from . import wire

KERNEL_SIDE = (Path(__file__).with_name("kernel_side.py")).read_text()


def new_nonce() -> str:
    return secrets.token_hex(16)


def request_code(request: dict, nonce: str) -> str:
    """One statement that runs :mod:`autograder.kernel_side` on ``request`` in the kernel.

    It runs in a fresh namespace (nothing is left in the notebook's globals) and reads the
    notebook's globals through ``globals()`` of the calling cell.
    """
    text = json.dumps(request, allow_nan=False)
    program = KERNEL_SIDE + f"\nanswer(_notebook_globals, {text!r}, {nonce!r})\n"
    return (f"__import__('builtins').exec({program!r}, {{'__name__': 'autograder_kernel_side', "
            "'_notebook_globals': globals()})")


def read_reply(outputs, nonce: str):
    """The decoded reply's steps from a request cell's outputs, or a sentence saying why not.

    Parameters
    ----------
    outputs : list of nbformat output nodes of the request cell
    nonce : str, the request's nonce

    Returns
    -------
    list (one decoded outcome per request step) or str (what went wrong, for the student)
    """
    text = "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    body = wire.extract_reply(text, nonce)
    if body is None:
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            ename = str(errors[-1].get("ename", "an error"))[:100]
            return (f"the notebook raised {ename} while the grader asked for your answer "
                    "(did your code change the notebook's environment or take too long?).")
        return "the notebook did not answer the grader's questions."
    try:
        reply = wire.decode(body)
    except wire.WireError as exc:
        return f"the notebook's answer could not be read ({exc})."
    steps = reply.get("steps") if isinstance(reply, dict) else None
    if not isinstance(steps, list):
        return "the notebook's answer could not be read."
    return steps
