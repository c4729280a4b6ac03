"""Intake: turn a collected submission into the copy that nbgrader grades.

The TA's ``submitted/<student>/<assignment>/`` is never modified. The grader works on a
staged copy that holds only

* the assignment's notebooks, each a regular file that parses as a notebook (a corrupt or
  oversized notebook is left out and scores zero, with the reason);
* ``timestamp.txt`` (nbgrader's collect time, for late penalties);
* ``submission_secret.txt`` (nbgrader's exchange names the student's feedback after it).

Everything else (planted ``helpers/checks.py``, symlinks, FIFOs, sockets, device files, data
files, notebooks under other names) is left out and listed, so the TA sees it. The
submission is walked with :mod:`autograder.fstree`: no recursion, no symlink followed,
nothing but regular files opened.

Intake is about files only. What is inside a notebook (its cells' grading metadata) is
repaired by :class:`autograder.repair.RepairGradingMetadata`, the first step of nbgrader's
own autograde pipeline, so every way of grading repairs a notebook the same way.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Collection
from pathlib import Path

import nbformat

from . import fstree
from .course import IGNORED_NAMES

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024


@dataclasses.dataclass
class Intake:
    staged: list[str] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)
    corrupt: dict[str, str] = dataclasses.field(default_factory=dict)
    unexpected_notebooks: list[str] = dataclasses.field(default_factory=list)
    removed_files: list[str] = dataclasses.field(default_factory=list)

    def issues(self) -> list[str]:
        """Readable lines for the TA (and the report)."""
        out = []
        for name in self.missing:
            hint = ""
            if self.unexpected_notebooks:
                hint = (" (submitted instead: " + ", ".join(self.unexpected_notebooks)
                        + "; rename it and regrade if that is the same work)")
            out.append(f"missing notebook {name}.ipynb: scored zero{hint}")
        for name, why in self.corrupt.items():
            out.append(f"notebook {name}.ipynb could not be read ({why}): scored zero")
        if self.unexpected_notebooks and not self.missing:
            out.append("notebooks not in the assignment were ignored: "
                       + ", ".join(self.unexpected_notebooks))
        if self.removed_files:
            shown = ", ".join(self.removed_files[:8])
            more = f" and {len(self.removed_files) - 8} more" if len(self.removed_files) > 8 else ""
            out.append(f"files not in the release were not used for grading: {shown}{more}")
        return out

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _valid_timestamp(data: bytes) -> bool:
    from nbgrader.utils import parse_utc

    try:
        parse_utc(data.decode("utf-8").strip())
        return True
    except Exception:
        return False


def _ignored(name: str) -> bool:
    return name in IGNORED_NAMES or name.startswith(".")


def _not_regular(kind: str) -> str:
    return f"{fstree.LABELS[kind]}, not a regular file; not opened"


def stage_submission(src: Path, dest: Path, expected: Collection[str]) -> Intake:
    """Copy the gradeable part of ``src`` to ``dest`` (replaced); say what was left out.

    ``src`` is walked without recursion and without following symlinks; only regular files
    are ever opened, so deep trees, FIFOs, sockets, devices and symlinks cannot stall or
    crash intake: they are listed in ``removed_files`` with what they were.
    """
    intake = Intake()
    problems = fstree.remove_tree(dest)
    if os.path.lexists(dest):
        raise OSError(f"could not clear the staging folder {dest}: " + "; ".join(problems[:5]))
    dest.mkdir(parents=True)
    found: set[str] = set()
    kind = _kind(src)
    if kind == "dir":
        def unreadable(exc: OSError) -> None:
            intake.removed_files.append(
                f"{fstree.shown(exc.filename)} (could not be read: {exc.strerror or exc})")

        for entry in fstree.walk(src, skip=_ignored, onerror=unreadable):
            _take(entry, src, dest, expected, intake, found)
    elif kind is not None:
        intake.removed_files.append(f". (the submission folder is a {fstree.LABELS[kind]}; "
                                    "not followed)")
    for notebook in sorted(expected):
        if notebook not in found:
            intake.missing.append(notebook)
    return intake


def _kind(path: Path) -> str | None:
    """What ``path`` is, without following a symlink; None if it does not exist."""
    try:
        return fstree.kind_of(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None


def _take(entry: fstree.Entry, src: Path, dest: Path, expected: Collection[str],
          intake: Intake, found: set[str]) -> None:
    """Stage one walked entry of the submission, or record why it was left out."""
    if entry.kind == "dir":
        return
    name = entry.path.rsplit("/", 1)[-1]
    top = "/" not in entry.path
    regular = entry.kind == "file"
    if top and name == "timestamp.txt":
        if not regular:
            intake.removed_files.append(f"timestamp.txt ({_not_regular(entry.kind)})")
            return
        data = _read(src / name, 1024)
        if isinstance(data, bytes) and _valid_timestamp(data):
            (dest / name).write_bytes(data)
        else:
            intake.removed_files.append("timestamp.txt (unreadable time)")
        return
    if top and name == "submission_secret.txt" and regular:
        data = _read(src / name, 4095)
        if isinstance(data, bytes):
            (dest / name).write_bytes(data)
            return
    if top and name.endswith(".ipynb") and name[:-6] in expected:
        found.add(name[:-6])
        if not regular:
            intake.corrupt[name[:-6]] = _not_regular(entry.kind)
            return
        _stage_notebook(src / name, dest / name, intake)
        return
    if name.endswith(".ipynb") and regular:
        intake.unexpected_notebooks.append(fstree.shown(entry.path))
        return
    label = "" if regular else f" ({fstree.LABELS[entry.kind]})"
    intake.removed_files.append(fstree.shown(entry.path) + label)


def _read(path: Path, limit: int) -> bytes | str:
    """The bytes of the regular file ``path``, or why they could not be read."""
    try:
        return fstree.read_regular(path, limit=limit)
    except fstree.NotRegularFile as exc:
        return _not_regular(exc.kind)
    except fstree.FileTooLarge:
        if limit >= 1024 * 1024:
            return f"larger than {limit // (1024 * 1024)} MB"
        return f"larger than {limit} bytes"
    except OSError as exc:
        return f"could not be read: {exc.strerror or exc}"


def _stage_notebook(src: Path, dest: Path, intake: Intake) -> None:
    notebook = src.stem
    data = _read(src, MAX_NOTEBOOK_BYTES)
    if isinstance(data, str):
        intake.corrupt[notebook] = data
        return
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
            raise ValueError("no list of cells")
        nb = nbformat.reads(json.dumps(raw), as_version=4)
        for cell in nb.cells:
            cell.setdefault("metadata", {})
            if cell.get("cell_type") not in ("code", "markdown", "raw"):
                raise ValueError(f"unknown cell type {cell.get('cell_type')!r}")
            if not isinstance(cell.get("source", ""), str):
                raise ValueError("cell source is not text")
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError) as exc:
        intake.corrupt[notebook] = f"not a valid notebook: {type(exc).__name__}: {str(exc)[:200]}"
        return
    intake.staged.append(notebook)
    nbformat.write(nb, dest)
