"""Grading one student, inside a worker process of :mod:`autograder.grade`.

The worker is trusted code: it runs nbgrader's own ``Autograde`` converter with the
course's pipeline from ``nbgrader_config.py`` (the same as ``nbgrader autograde``:
sandboxed execution, hidden tests judged outside the kernel, sanitised outputs,
``SaveAutoGrades``, late penalties) and ``GenerateFeedback``. Two settings are the
worker's own:

* its sandbox slot (a uid of its own, so process limits are per worker);
* the gradebook is this worker's private SQLite copy. Only the parent process writes the
  course's gradebook, merging each student's results through nbgrader's ``Gradebook``
  API and nbgrader's own ``SaveAutoGrades`` (:func:`autograder.grade.record_grades`), so parallel workers never race on SQLite
  writes and student code never sees any gradebook.

Each notebook is converted on its own, so a notebook nbgrader cannot grade costs that
notebook only.
"""
from __future__ import annotations

import copy
import io
import logging
import time
import traceback
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .course import Course
from .execute import SandboxedExecute
from .grade import zero_notebook
from .fstree import remove_tree
from .intake import stage_submission
from .repair import REPAIRS_KEY
from .timings import TimedAutograde

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
    for key, value in task["sandbox"].items():
        setattr(cfg.SandboxKernelManager, key, value)
    cfg.SandboxKernelManager.slot = slot
    cfg.SandboxedExecute.scratch_root = task["scratch_root"].format(slot=slot)
    for key in ("timeout", "notebook_budget", "unresponsive_grace"):
        if task.get(key):
            setattr(cfg.SandboxedExecute, key, int(task[key]))
            if key == "timeout":  # a cell's limit is also the limit for answering a hidden test
                cfg.Execute.timeout = int(task[key])
                cfg.SandboxedExecute.ask_timeout = int(task[key])
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


def _submission_time(db_url: str, assignment: str, student: str) -> str | None:
    """The submission time nbgrader read from timestamp.txt, for the course gradebook."""
    with Gradebook(db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return None
        return sub.timestamp.isoformat() if sub.timestamp else None


def _run_record(path: Path) -> dict:
    """What the grader wrote into an autograded notebook's metadata: the run and the verdicts."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 -- reported, never fatal
        return {"kernel": f"the graded notebook could not be read back: {exc}", "timeouts": [],
                "truncated": [], "events": [], "verdicts": {}, "repairs": []}
    run = dict(nb.metadata.get("autograder_run", {}))
    run["verdicts"] = dict(nb.metadata.get("autograder", {}).get("verdicts", {}))
    run["repairs"] = list(nb.metadata.get(REPAIRS_KEY, []))
    return run


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
        clock = time.perf_counter()
        intake = stage_submission(course.submission_dir(student), staging, task["expected"])
        result["timings"] = {"intake": time.perf_counter() - clock}
        result["intake"] = intake.to_dict()
        result["issues"].extend(intake.issues())
        autograded = course.autograded_root / student / assignment
        # A resubmission must not keep notebooks graded from the previous one.
        for stale in intake.missing + list(intake.corrupt):
            path = autograded / f"{stale}.ipynb"
            if path.exists():
                path.unlink()
        base = course.config
        staged = [n for n in sorted(task["expected"]) if n in intake.staged]
        for notebook in sorted(task["expected"]):
            info = {"status": "graded"}
            if notebook not in intake.staged:
                info["status"] = "missing" if notebook in intake.missing else "corrupt"
                zero_notebook(db_url, assignment, student, notebook)
                result["notebooks"][notebook] = info
                continue
            cfg = _autograde_config(base, task, slot)
            cfg.CourseDirectory.notebook_id = notebook
            # the next notebook's kernel starts while this one is graded
            cfg.SandboxedExecute.prestart_next = notebook != staged[-1]
            graded_path = autograded / f"{notebook}.ipynb"
            if graded_path.exists():
                graded_path.unlink()
            try:
                coursedir = CourseDirectory(config=cfg)
                converter = TimedAutograde(coursedir=coursedir, config=cfg)
                converter.log.addHandler(handler)
                converter.start()
                info["timings"] = converter.timings
            except Exception as exc:  # nbgrader refused this notebook
                info["status"] = "error"
                info["error"] = f"{type(exc).__name__}: {exc}"
                result["issues"].append(f"{notebook}.ipynb could not be autograded "
                                        f"({info['error']}): scored zero")
                zero_notebook(db_url, assignment, student, notebook)
            if graded_path.exists():
                run = _run_record(graded_path)
                defaults = {"kernel": "ok", "timeouts": [], "events": [], "truncated": [],
                            "verdicts": {}, "kernel_log_tail": "", "repairs": []}
                info.update({k: run.get(k, default) for k, default in defaults.items()})
                if info["repairs"]:
                    shown = "; ".join(info["repairs"][:6])
                    more = " ..." if len(info["repairs"]) > 6 else ""
                    result["issues"].append(f"{notebook}.ipynb: cells repaired to the release's "
                                            f"grading metadata: {shown}{more}")
                if info["kernel"] != "ok":
                    result["issues"].append(f"{notebook}: {info['kernel']}")
                for index in info["timeouts"]:
                    result["issues"].append(f"{notebook}: cell {index} timed out")
            result["notebooks"][notebook] = info
        if task.get("feedback", True) and intake.staged:
            cfg = _autograde_config(base, task, slot)
            clock = time.perf_counter()
            try:
                coursedir = CourseDirectory(config=cfg)
                GenerateFeedback(coursedir=coursedir, config=cfg).start()
            except Exception as exc:
                result["issues"].append(f"feedback could not be generated: {exc}")
            result["timings"]["feedback"] = time.perf_counter() - clock
        result["timestamp"] = _submission_time(db_url, assignment, student)
    except Exception:
        result["status"] = "error"
        result["issues"].append("grading failed: " + traceback.format_exc(limit=5))
    finally:
        SandboxedExecute.discard_spare()  # a spare no notebook took (this one was refused)
        root_logger.removeHandler(handler)
        result["log"] = stream.getvalue()[-20000:]
        for problem in remove_tree(str(Path(task["staging_root"]) / student)):
            result["issues"].append(f"clean-up: {problem}")
    return result
