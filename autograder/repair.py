"""``RepairGradingMetadata``: a submission's cells graded as the release made them.

It runs first in ``Autograde.sanitize_preprocessors`` (``nbgrader_config.py``), before
nbgrader's ``OverwriteCells``, so ``nbgrader autograde``, formgrader's Autograde button and
the class command repair a submission the same way. A student who copies, pastes, deletes,
reorders or retypes cells in JupyterLab changes the cells' grading metadata (copy and paste
keeps it); nbgrader then fails the whole notebook on some of these (a ``grade_id`` the
gradebook does not know leaves metadata that ``OverwriteCells`` indexes, ``"nbgrader":
null`` breaks its helpers). The release notebook is the truth:

* a cell whose ``grade_id`` the release does not have (copied from another notebook), a
  second copy of a known cell (the last copy keeps the id: it is the one that ran last), and
  malformed metadata (not a dict, ``{}``, ``null``, a non-text id) lose their grading
  metadata: they become cells the student added, graded as such;
* a known cell gets the release's flags (grade, solution, locked, task), points and cell
  type back;
* execution tags (``skip-execution``, ``raises-exception``, ``grading-skip``) are the
  release's on locked cells and removed from every other cell: only the instructor decides
  what is not run;
* a cell the student could not edit (locked, graded or a task) that is missing is put back
  from the release after the nearest release cell before it (nbgrader's own add-back
  fails when that cell is not a graded one).

Every repair is logged as a warning (the TA sees it in ``nbgrader autograde``'s output)
and listed in the notebook's metadata (``metadata.autograder_repairs``), where the class
grader reads it for its report.
"""
from __future__ import annotations

import copy
import os

import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

#: the nbgrader metadata keys the release decides
FLAGS = ("grade", "solution", "locked", "task")
REPAIRS_KEY = "autograder_repairs"

_RELEASES: dict[tuple, nbformat.NotebookNode] = {}


class RepairError(RuntimeError):
    """The course cannot say what the submission should look like (not the student's fault)."""


def _release_notebook(path: str) -> nbformat.NotebookNode:
    """The release notebook at ``path``, read once while it is unchanged."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise RepairError(
            f"the release notebook {path} is missing ({exc.strerror}); grading repairs each "
            "submission against it: make it with `nbgrader generate_assignment --force`") from None
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _RELEASES:
        if len(_RELEASES) > 64:
            _RELEASES.clear()
        _RELEASES[key] = nbformat.read(path, as_version=4)
    return _RELEASES[key]


def grade_id_of(cell) -> str | None:
    """The cell's ``grade_id`` if its grading metadata is well formed, else None."""
    md = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    gid = md.get("grade_id") if isinstance(md, dict) else None
    return gid if isinstance(gid, str) and gid else None


def _short(cell) -> str:
    source = cell.get("source", "")
    first = (source if isinstance(source, str) else "").strip().splitlines()[:1]
    text = first[0][:40] if first else "empty"
    return f"{cell.get('cell_type', '?')} cell ({text!r})"


class RepairGradingMetadata(NbGraderPreprocessor):
    """Give a submission's cells the release's grading metadata; put back deleted locked cells."""

    execution_tags = List(
        Unicode(), ["skip-execution", "raises-exception", "grading-skip"],
        help="tags that change how a cell runs or is graded; only the release's locked "
             "cells keep them").tag(config=True)

    def release_path(self, resources) -> str:
        nbg = resources.get("nbgrader", {})
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.release_directory, ".", nbg.get("assignment", ""))
        return os.path.join(folder, f"{nbg.get('notebook', '')}.ipynb")

    def preprocess(self, nb, resources):
        release = _release_notebook(self.release_path(resources))
        truth = {gid: cell for cell in release.cells if (gid := grade_id_of(cell))}
        order = [grade_id_of(c) for c in release.cells if grade_id_of(c)]
        repairs: list[str] = []
        last = {}
        for index, cell in enumerate(nb.cells):
            if grade_id_of(cell) in truth:
                last[grade_id_of(cell)] = index
        for index, cell in enumerate(nb.cells):
            where = f"cell {index + 1}, {_short(cell)}"
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = nbformat.NotebookNode()
                repairs.append(f"{where}: malformed metadata removed")
            self._fix_tags_type(cell, where, repairs)
            gid = grade_id_of(cell)
            if "nbgrader" not in cell.metadata:
                continue
            if gid not in truth:
                why = ("malformed grading metadata" if gid is None
                       else f"grading metadata of {gid!r}, a cell this notebook does not have")
                repairs.append(f"{where}: {why} removed (graded as a cell you added)")
                del cell.metadata["nbgrader"]
            elif last[gid] != index:
                repairs.append(f"{where}: a second copy of {gid!r}; the later copy is graded, "
                               "this one counts as a cell you added")
                del cell.metadata["nbgrader"]
            else:
                self._restore(cell, truth[gid], gid, repairs)
        for cell in nb.cells:
            self._execution_tags(cell, truth.get(grade_id_of(cell)), repairs)
        self._put_back_missing(nb, release, order, repairs)
        nb.metadata[REPAIRS_KEY] = repairs
        notebook = resources.get("nbgrader", {}).get("notebook", "")
        for line in repairs:
            self.log.warning("%s: %s", notebook, line)
        return nb, resources

    # ---------------------------------------------------------------------------------
    def _fix_tags_type(self, cell, where, repairs) -> None:
        """Tags that are not a list of strings are dropped (nbclient would fail on them)."""
        tags = cell.metadata.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            del cell.metadata["tags"]
            repairs.append(f"{where}: malformed tags removed")

    def _restore(self, cell, want, gid, repairs) -> None:
        """The release's flags, points and cell type for the known cell ``gid``."""
        md = cell.metadata["nbgrader"]
        want_md = want.metadata["nbgrader"]
        for key in FLAGS + ("points",):
            if key in want_md and md.get(key) != want_md[key]:
                repairs.append(f"{gid}: {key} {md.get(key)!r} restored to {want_md[key]!r}")
                md[key] = want_md[key]
            elif key not in want_md and key in md:
                repairs.append(f"{gid}: {key} removed")
                del md[key]
        md["schema_version"] = want_md.get("schema_version", 3)
        if cell.cell_type != want.cell_type:
            repairs.append(f"{gid}: cell type {cell.cell_type} restored to {want.cell_type}")
            _set_type(cell, want.cell_type)

    def _execution_tags(self, cell, want, repairs) -> None:
        """Locked release cells keep the release's execution tags; other cells have none."""
        locked = want is not None and want.metadata["nbgrader"].get("locked", False)
        wanted = [t for t in want.metadata.get("tags", []) if t in self.execution_tags] if locked else []
        tags = cell.metadata.get("tags", [])
        kept = [t for t in tags if t not in self.execution_tags] + wanted
        if sorted(kept) != sorted(tags):
            dropped = sorted(set(tags) - set(kept))
            what = grade_id_of(cell) or _short(cell)
            repairs.append(f"{what}: execution tags " + (f"{dropped} removed" if dropped else
                                                         f"restored to {wanted}"))
            cell.metadata["tags"] = kept
            if not kept:
                del cell.metadata["tags"]

    def _put_back_missing(self, nb, release, order, repairs) -> None:
        """Release cells the student could not edit and deleted, back after their predecessor."""
        present = {grade_id_of(c) for c in nb.cells} - {None}
        for cell in release.cells:
            gid = grade_id_of(cell)
            if gid is None or gid in present:
                continue
            md = cell.metadata["nbgrader"]
            if not any(md.get(k) for k in ("locked", "grade", "task")):
                continue  # an answer cell: its answer may live in a cell the student added
            ids = [grade_id_of(c) for c in nb.cells]
            before = next((b for b in reversed(order[:order.index(gid)]) if b in ids), None)
            at = 0 if before is None else ids.index(before) + 1
            nb.cells.insert(at, _fresh_copy(cell))
            present.add(gid)
            repairs.append(f"{gid}: missing, put back from the release")


def _set_type(cell, cell_type: str) -> None:
    """Turn ``cell`` into a ``cell_type`` cell, keeping its source and metadata."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.setdefault("outputs", [])
        cell.setdefault("execution_count", None)
        cell.pop("attachments", None)
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _fresh_copy(cell):
    """The release's ``cell`` with a new cell id and no outputs."""
    maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
             "raw": nbformat.v4.new_raw_cell}[cell.cell_type]
    return maker(source=cell.source, metadata=copy.deepcopy(cell.metadata))
