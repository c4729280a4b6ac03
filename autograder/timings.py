"""Where a notebook's grading time goes: seconds per pipeline step, kernel start and cell.

:class:`TimedAutograde` is nbgrader's ``Autograde`` converter with each preprocessor of its
pipeline timed (the class grader's workers use it; plain ``nbgrader autograde`` is not
changed). :class:`autograder.execute.SandboxedExecute` adds its own parts: kernel start,
each cell's execution and asking the hidden tests. A worker reads the figures from
:attr:`TimedAutograde.timings` after each notebook; ``autograder results --timings`` shows
them from the state file.
"""
from __future__ import annotations

import time

from nbgrader.converters import Autograde

#: the key under which SandboxedExecute leaves its own figures in nbconvert's resources
RESOURCES_KEY = "timings"


class _Timed:
    """A preprocessor whose calls add their seconds to ``record[name]``."""

    def __init__(self, preprocessor, record: dict):
        self.preprocessor = preprocessor
        self.record = record
        self.name = type(preprocessor).__name__

    def __call__(self, nb, resources):
        start = time.perf_counter()
        try:
            return self.preprocessor(nb, resources)
        finally:
            steps = self.record.setdefault("steps", {})
            steps[self.name] = steps.get(self.name, 0.0) + time.perf_counter() - start
            inner = resources.get("autograder", {}).get(RESOURCES_KEY) if isinstance(resources, dict) else None
            if inner:
                self.record.update(inner)

    def __getattr__(self, name):  # nbconvert reads e.g. ``enabled`` off a preprocessor
        return getattr(self.preprocessor, name)


class TimedAutograde(Autograde):
    """``Autograde`` with every preprocessor timed into :attr:`timings`.

    ``timings`` (for the notebook converted last) holds ``steps``: seconds per preprocessor
    class, summed over sanitising and autograding; and what ``SandboxedExecute`` measured:
    ``kernel_start``, ``cells`` ({index: seconds}) and ``asking``.
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.timings: dict = {}

    def convert_single_notebook(self, notebook_filename: str) -> None:
        self.timings = {}
        start = time.perf_counter()
        try:
            super().convert_single_notebook(notebook_filename)
        finally:
            self.timings["total"] = time.perf_counter() - start

    def _init_preprocessors(self) -> None:
        super()._init_preprocessors()
        self.exporter._preprocessors = [_Timed(pp, self.timings) for pp in self.exporter._preprocessors]
