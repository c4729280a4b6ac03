"""Grading one student, inside a worker process of :mod:`autograder.grade`.

The worker is trusted code: it runs nbgrader's own ``Autograde`` converter (sanitize with
``ClearOutput``/``DeduplicateIds``/``OverwriteKernelspec``/``OverwriteCells``/
``CheckCellMetadata``, then execute, ``SaveAutoGrades``, late penalties) and
``GenerateFeedback``, with two changes made through nbgrader's configuration:

* ``Execute`` is replaced by :class:`autograder.execute.SandboxedExecute`;
* the gradebook is this worker's private SQLite copy. Only the parent process writes the
  course's gradebook, merging each student's results through nbgrader's ``Gradebook``
  API (:func:`autograder.grade.merge_result`), so parallel workers never race on SQLite
  writes and student code never sees any gradebook.

Each notebook is converted on its own, so a notebook nbgrader cannot grade costs that
notebook only.
"""
from __future__ import annotations

import copy
import io
import json
import logging
import os
import shutil
import traceback
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from . import execute as ag_execute
from . import feedback
from .course import Course
from .intake import stage_submission

_SLOT = 0


def init_worker(slots) -> None:
    """ProcessPoolExecutor initializer: take a slot (uid offset, gradebook copy)."""
    global _SLOT
    _SLOT = slots.get()
    _quiet()


def _quiet() -> None:
    """nbgrader's SQLAlchemy warnings and INFO logging are noise under a progress bar."""
    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    logging.getLogger("traitlets").setLevel(logging.ERROR)


def _autograde_config(base: Config, task: dict, slot: int) -> Config:
    cfg = copy.deepcopy(base)  # Config.merge would share (and leak edits into) sections
    settings = dict(task["sandbox"], slot=slot)
    cfg.Autograde.autograde_preprocessors = [
        ag_execute.SandboxedExecute,
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    cfg.SandboxedExecute.sandbox_settings = json.dumps(settings)
    cfg.SandboxedExecute.scratch_root = task["scratch_root"].format(slot=slot)
    for key in ("timeout", "notebook_budget", "unresponsive_grace"):
        if task.get(key):
            setattr(cfg.SandboxedExecute, key, int(task[key]))
            if key == "timeout":
                cfg.Execute.timeout = int(task[key])
    cfg.Autograde.force = True
    cfg.Autograde.create_student = True
    cfg.GenerateFeedback.force = True
    cfg.CourseDirectory.db_url = task["db_url"].format(slot=slot)
    cfg.CourseDirectory.submitted_directory = task["staging_root"]
    cfg.CourseDirectory.assignment_id = task["assignment"]
    cfg.CourseDirectory.student_id = task["student"]
    return cfg


def _capture_log() -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return handler, stream


def _zero_notebook(db_url: str, assignment: str, student: str, notebook: str) -> None:
    """What nbgrader does for a missing notebook: every cell of it scores zero."""
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            gb.add_submission(assignment, student)
        sub = gb.find_submission_notebook(notebook, assignment, student)
        for grade in sub.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gb.db.commit()


def _read_back(db_url: str, assignment: str, student: str) -> dict:
    """This student's results in the worker's gradebook, as plain data for the parent."""
    out = {"timestamp": None, "notebooks": {}}
    with Gradebook(db_url) as gb:
        sub = gb.find_submission(assignment, student)
        out["timestamp"] = sub.timestamp.isoformat() if sub.timestamp else None
        for nb in sub.notebooks:
            out["notebooks"][nb.name] = {
                "late_penalty": nb.late_submission_penalty,
                "grades": [{"name": g.name, "auto_score": g.auto_score, "max_score": g.max_score,
                            "needs_manual_grade": g.needs_manual_grade,
                            "cell_type": g.cell.cell_type} for g in nb.grades],
                "comments": [{"name": c.name, "auto_comment": c.auto_comment}
                             for c in nb.comments],
            }
    return out


def grade_student(task: dict) -> dict:
    """Stage, autograde (sandboxed), write feedback; return everything the parent merges."""
    slot = _SLOT
    student, assignment = task["student"], task["assignment"]
    course = Course(Path(task["course_root"]), assignment)
    db_url = task["db_url"].format(slot=slot)
    result = {"student": student, "hash": task["hash"], "status": "graded", "notebooks": {},
              "issues": [], "log": ""}
    handler, stream = _capture_log()
    root_logger = logging.getLogger()
    root_logger.addHandler(handler)
    try:
        staging = Path(task["staging_root"]) / student / assignment
        intake = stage_submission(course.submission_dir(student), staging, task["expected"])
        result["intake"] = intake.to_dict()
        result["issues"].extend(intake.issues())
        autograded = course.autograded_root / student / assignment
        # A resubmission must not keep notebooks graded from the previous one.
        for stale in intake.missing + list(intake.corrupt):
            path = autograded / f"{stale}.ipynb"
            if path.exists():
                path.unlink()
        base = course.config
        for notebook in sorted(task["expected"]):
            info = {"status": "graded"}
            if notebook not in intake.staged:
                info["status"] = "missing" if notebook in intake.missing else "corrupt"
                _zero_notebook(db_url, assignment, student, notebook)
                result["notebooks"][notebook] = info
                continue
            cfg = _autograde_config(base, task, slot)
            cfg.CourseDirectory.notebook_id = notebook
            ag_execute.RESULTS.pop(notebook, None)
            try:
                coursedir = CourseDirectory(config=cfg)
                converter = Autograde(coursedir=coursedir, config=cfg)
                converter.log.addHandler(handler)
                converter.start()
            except Exception as exc:  # nbgrader refused this notebook
                info["status"] = "error"
                info["error"] = f"{type(exc).__name__}: {exc}"
                result["issues"].append(f"{notebook}.ipynb could not be autograded "
                                        f"({info['error']}): scored zero")
                _zero_notebook(db_url, assignment, student, notebook)
            run = ag_execute.RESULTS.pop(notebook, None)
            if run:
                info.update({k: run[k] for k in ("kernel", "timeouts", "not_run", "tampering",
                                                  "events", "truncated")})
                if run["kernel"] != "ok":
                    result["issues"].append(f"{notebook}: {run['kernel']}")
                for index in run["timeouts"]:
                    result["issues"].append(f"{notebook}: cell {index} timed out")
                if run["tampering"]:
                    result["issues"].append(f"{notebook}: tampering detected: "
                                            + "; ".join(run["tampering"][:3]))
                log = run.get("kernel_log")
                if log and os.path.exists(log):
                    if run["kernel"] != "ok":
                        with open(log, "rb") as fh:
                            fh.seek(max(0, os.path.getsize(log) - 2000))
                            info["kernel_log_tail"] = fh.read().decode("utf-8", "replace")
                    os.unlink(log)
            result["notebooks"][notebook] = info
        if task.get("feedback", True) and intake.staged:
            cfg = _autograde_config(base, task, slot)
            feedback.configure(cfg, [tuple(p) for p in task["sandbox"]["trusted_packages"]],
                               task["sandbox"].get("public_files", ()))
            try:
                coursedir = CourseDirectory(config=cfg)
                GenerateFeedback(coursedir=coursedir, config=cfg).start()
            except Exception as exc:
                result["issues"].append(f"feedback could not be generated: {exc}")
        result["gradebook"] = _read_back(db_url, assignment, student)
    except Exception:
        result["status"] = "error"
        result["issues"].append("grading failed: " + traceback.format_exc(limit=5))
    finally:
        root_logger.removeHandler(handler)
        result["log"] = stream.getvalue()[-20000:]
        shutil.rmtree(Path(task["staging_root"]) / student, ignore_errors=True)
    return result
