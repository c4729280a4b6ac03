"""Grade one answer in-process, through the same request/reply path as the real grader.

``grade(name, namespace)`` plans the hidden test, runs :mod:`autograder.kernel_side` on
``namespace`` (standing in for the notebook's globals) exactly as the kernel would, decodes
its printed reply with :mod:`autograder.wire`, and judges it with :func:`helpers.checks.judge`.
No kernel is started, so the checks' promises can be pinned down in milliseconds; the
end-to-end versions run through real ``nbgrader autograde``.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from autograder import asking
from helpers import checks
from helpers.mistakes import define
from helpers.rules import Cell, to_python


def ask(plan, namespace: dict):
    """The decoded reply steps of ``plan``'s request run against ``namespace``."""
    nonce = asking.new_nonce()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(asking.request_code(plan.request, nonce), namespace)  # noqa: S102 -- test double of the kernel
    return asking.read_reply([{"output_type": "stream", "name": "stdout", "text": out.getvalue()}], nonce)


def grade(name: str, namespace: dict, cells: list[Cell] | None = None, seed: int = 0):
    """The Failure (or None) for answer ``name`` defined in ``namespace``.

    An answer graded with carry-forward credit is planned together with the answer it
    builds on, and both are asked, as the grader does for a whole notebook.
    """
    uses = checks.plan(name, np.random.default_rng(seed)).uses
    names = [uses, name] if uses else [name]  # asked in notebook order, as the grader does
    plans = checks.plan_notebook(names, lambda n: np.random.default_rng([seed, len(n)]))
    namespace = dict(namespace)
    replies = {n: ask(plans[n], namespace) for n in names}
    others = {n: (plans[n], replies[n]) for n in plans}
    return checks.judge(plans[name], replies[name], cells or [], others)


class _FakeShell:
    """Stands in for IPython's shell: hooks are plain lists; ``%%time`` runs its cell."""

    def __init__(self, namespace):
        self.namespace = namespace
        self.input_transformers_post, self.ast_transformers = [], []

    def run_line_magic(self, *args):
        return None

    def run_cell_magic(self, magic, line, cell):
        if magic in ("time", "timeit"):
            exec(to_python(cell), self.namespace)  # noqa: S102 -- test double of IPython


def namespace_of(*sources: tuple[str, str]) -> dict:
    """A notebook namespace after running answer cells given as (name, source) pairs.

    Cells are turned into Python as IPython does (magics become ``get_ipython()`` calls).
    """
    namespace: dict = {}
    shell = _FakeShell(namespace)
    namespace["get_ipython"] = lambda: shell
    for name, source in sources:
        define(to_python(source), name, f"<cell {name}>", namespace)
    return namespace


def value(name: str, value_) -> dict:
    """A namespace where ``name`` holds ``value_`` (np imported, as in the notebooks)."""
    return {"np": np, name: value_}
