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


# ------------------------------------------------------------------------------------------
# The breakdown a TA (or the benchmark) reads

#: columns of the breakdown: label -> the pipeline steps (preprocessor classes) they sum
STEP_GROUPS = {
    "checking": ("PrepareChecks", "CheckAnswers"),
    "sanitising": ("RepairGradingMetadata", "ClearOutput", "DeduplicateIds", "OverwriteKernelspec",
                   "OverwriteCells", "CheckCellMetadata", "MarkNotRun", "BoundOutputs",
                   "SanitizeOutputs", "IgnorePattern", "ClearMetadataPreprocessor", "LimitOutput"),
    "saving": ("SaveAutoGrades", "AssignLatePenalties"),
}
COLUMNS = ("kernel start", "cells", "asking", "checking", "sanitising", "saving", "other", "total")


def notebook_parts(timings: dict) -> dict[str, float]:
    """One notebook's :attr:`TimedAutograde.timings` as the seconds of each of :data:`COLUMNS`.

    ``other`` is what no part names: nbgrader reading and writing the notebook, the
    gradebook's set-up, the executor's scratch folder.
    """
    steps = timings.get("steps", {})
    parts = {"kernel start": sum(timings.get(k, 0.0) for k in ("kernel_start", "kernel_stop", "prestart")),
             "cells": sum(timings.get("cells", {}).values()),
             "asking": timings.get("asking", 0.0) + timings.get("replay", 0.0)}
    for label, names in STEP_GROUPS.items():
        parts[label] = sum(steps.get(n, 0.0) for n in names)
    total = timings.get("total", 0.0)
    parts["other"] = max(0.0, total - sum(parts.values()))
    parts["total"] = total
    return parts


def breakdown(state: dict) -> tuple[list[str], list[list]]:
    """Header and rows: per notebook, the mean seconds of each part over the graded students,
    then the per-student parts (intake, feedback) and the slowest cells."""
    per_notebook: dict[str, list[dict]] = {}
    slow: dict[tuple[str, str], list[float]] = {}
    student_parts: dict[str, list[float]] = {"intake": [], "feedback": []}
    for record in state.get("students", {}).values():
        for part, values in student_parts.items():
            if part in record.get("timings", {}):
                values.append(record["timings"][part])
        for notebook, info in record.get("notebooks", {}).items():
            if info.get("timings"):
                per_notebook.setdefault(notebook, []).append(notebook_parts(info["timings"]))
                for cell, seconds in info["timings"].get("cells", {}).items():
                    slow.setdefault((notebook, cell), []).append(seconds)
    header = ["notebook", "students", *COLUMNS]
    rows = [[notebook, len(runs), *(round(_mean([r[c] for r in runs]), 2) for c in COLUMNS)]
            for notebook, runs in sorted(per_notebook.items())]
    for part, values in student_parts.items():
        if values:
            rows.append([f"(per student) {part}", len(values), *[""] * (len(COLUMNS) - 1),
                         round(_mean(values), 2)])
    slowest = sorted(slow.items(), key=lambda kv: -_mean(kv[1]))[:5]
    for (notebook, cell), values in slowest:
        rows.append([f"(slow cell) {notebook} #{cell}", len(values), "", round(_mean(values), 2),
                     *[""] * (len(COLUMNS) - 2)])
    return header, rows


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
