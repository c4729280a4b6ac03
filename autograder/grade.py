"""Grade a whole class with one command: parallel, sandboxed, resumable.

    python -m autograder grade section03 [--course DIR] [--workers N] [--force] [--no-sandbox]

The parent process

1. checks that the sandbox works here (or stops with what to do, unless ``--no-sandbox``);
2. makes the run's private copy of the trusted packages (``helpers``, ``autograder``) and a
   private SQLite copy of the gradebook per worker;
3. decides who needs grading: a student is graded again only when the content hash of the
   submission, or the fingerprint of what grading depends on (source notebooks, trusted
   packages, limits), differs from the one recorded after their last successful grading
   (``.autograder/<assignment>/state.json``), or with ``--force``;
4. runs :func:`autograder.worker.grade_student` for them on ``--workers`` processes (one
   student at a time per worker, so one student's notebooks never compete with each other),
   with a tqdm progress bar;
5. merges each result into the course gradebook through nbgrader's ``Gradebook`` API as it
   arrives, then records it in the state file, so an interrupted run loses at most the
   students in flight.

A worker process that dies (it should not: student code runs in the sandboxed kernel, not
in the worker) is replaced and its student retried once; a student who still cannot be
graded is recorded with the reason and the batch goes on.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import dataclasses
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import sqlite3
import sys
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import sandbox as sb
from .course import Course, tree_hash
from .fstree import remove_tree

STATE_VERSION = 1


class GradingError(RuntimeError):
    """The class cannot be graded as asked (not a student's fault)."""


@dataclasses.dataclass
class Options:
    workers: int | None = None
    force: bool = False
    sandbox: sb.SandboxConfig = dataclasses.field(default_factory=sb.SandboxConfig)
    students: list[str] | None = None
    feedback: bool = True
    progress: bool = True
    timeout: int | None = None          # seconds per cell (default: nbgrader_config.py)
    notebook_budget: int | None = None  # wall-clock seconds per notebook
    unresponsive_grace: int | None = None  # seconds a kernel may stay busy after a timeout


@dataclasses.dataclass
class RunSummary:
    graded: list[str]
    skipped: list[str]
    failed: list[str]
    seconds: float
    state_path: Path
    # graded students whose grading noted problems (a corrupt or missing notebook, a timeout,
    # a dead kernel, files left out...): student -> the issue lines of their state record
    problems: dict[str, list[str]] = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# State (resumability)

def load_state(course: Course) -> dict:
    path = course.state_dir / "state.json"
    if path.exists():
        try:
            state = json.loads(path.read_text())
            if state.get("version") == STATE_VERSION:
                return state
        except ValueError:
            pass
    return {"version": STATE_VERSION, "students": {}}


def save_state(course: Course, state: dict) -> None:
    path = course.state_dir / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True, default=str))
    os.replace(tmp, path)


def fingerprint(course: Course, options: Options) -> str:
    """What a grade depends on besides the submission: the notebooks, the grader, its settings."""
    digest = hashlib.sha256()
    digest.update(tree_hash(course.source_dir).encode())
    for package in ("helpers", "autograder"):
        digest.update(tree_hash(sb.REPO_ROOT / package).encode())
    settings = {k: v for k, v in sandbox_settings(course, options).items() if k != "mpl_cache"}
    digest.update(json.dumps([settings, options.timeout, options.notebook_budget,
                              options.feedback], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def sandbox_settings(course: Course, options: Options) -> dict:
    """The SandboxKernelManager settings of this run: the course config with the CLI's overrides."""
    cfg = copy.deepcopy(course.config)
    options.sandbox.apply(cfg)
    manager = sb.SandboxKernelManager(config=cfg)
    return {name: getattr(manager, name) for name in
            ("enabled", "bwrap", "student_python", "memory_mb", "cpu_seconds", "nproc",
             "fsize_mb", "nofile", "tmp_mb", "shm_mb", "uid_base", "mpl_cache")}


# ------------------------------------------------------------------------------------------
# Gradebook

def gradebook_notebooks(course: Course) -> list[str]:
    missing = GradingError(
        f"assignment {course.assignment!r} is not in the gradebook {course.db_url}: add it by "
        f"running `{course.nbgrader_command('generate_assignment', course.assignment, '--force')}`"
        f", then grade again (--force: nbgrader skips an assignment whose release exists; it "
        f"rewrites {course.release_dir} from the source, unchanged if the release is up to date)")
    if course.sqlite_path is not None and not course.sqlite_path.exists():
        raise missing  # opening it would create an empty gradebook
    try:
        with Gradebook(course.db_url) as gb:
            return sorted(nb.name for nb in gb.find_assignment(course.assignment).notebooks)
    except MissingEntry:
        raise missing from None


def copy_gradebook(course: Course, dest: Path) -> str:
    """A consistent private copy of a SQLite gradebook (the backup API, safe while in use)."""
    src_path = course.sqlite_path
    if src_path is None:
        return course.db_url  # a server database (PostgreSQL) copes with concurrent writers
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.unlink()
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{dest}"


def record_grades(course: Course, result: dict) -> None:
    """Write one student's autograde results into the course gradebook, as nbgrader does.

    The submission time goes in first; then nbgrader's own ``SaveAutoGrades`` and
    ``AssignLatePenalties`` run on each notebook the worker autograded (so the scores and
    penalties are exactly what ``nbgrader autograde`` would record, and manual scores a TA
    entered meanwhile are kept and flagged for review); notebooks that could not be graded
    (missing, corrupt, refused) score zero, as nbgrader does for a missing notebook.
    """
    import warnings

    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades

    student, assignment = result["student"], course.assignment
    warnings.filterwarnings("ignore", message=".*not in session.*")
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_student(student)
        kwargs = {}
        if result.get("timestamp"):
            kwargs["timestamp"] = dt.datetime.fromisoformat(result["timestamp"])
        gb.update_or_create_submission(assignment, student, **kwargs)
    folder = course.autograded_root / student / assignment
    for notebook, info in sorted(result["notebooks"].items()):
        path = folder / f"{notebook}.ipynb"
        if info.get("status") != "graded" or not path.is_file():
            zero_notebook(course.db_url, assignment, student, notebook)
            continue
        nb = nbformat.read(str(path), as_version=4)
        resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment,
                                  "notebook": notebook, "student": student}}
        for step in (SaveAutoGrades, AssignLatePenalties):
            step(config=course.config).preprocess(nb, resources)


def zero_notebook(db_url: str, assignment: str, student: str, notebook: str) -> None:
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


def scores_of(course: Course, student: str) -> dict:
    """notebook -> auto score, max score and written answers pending, from the gradebook."""
    out = {}
    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission(course.assignment, student)
        for nb in sub.notebooks:
            grades = list(nb.grades)
            auto = [g.auto_score for g in grades if g.auto_score is not None]
            out[nb.name] = {"auto_score": sum(auto), "max_score": sum(g.max_score for g in grades),
                            "pending_manual": sum(1 for g in grades if g.needs_manual_grade)}
    return out


# ------------------------------------------------------------------------------------------
# The run

def _prepare_sandbox(course: Course, options: Options) -> dict:
    """Check the sandbox works here and build the font cache once; the workers' settings."""
    settings = sandbox_settings(course, options)
    manager = sb.SandboxKernelManager(**settings)
    sb.check_sandbox(manager, course.state_dir / "scratch")
    python = sb.student_python(manager.student_python)
    settings["mpl_cache"] = sb.prepare_mpl_cache(
        Path(settings["mpl_cache"] or course.state_dir / "mplcache"), python)
    return settings


def _tasks(course: Course, options: Options, todo: list[str], expected: list[str],
           settings: dict, hashes: dict) -> list[dict]:
    state_dir = course.state_dir
    return [{
        "course_root": str(course.root), "assignment": course.assignment, "student": student,
        "hash": hashes[student], "expected": expected, "sandbox": settings,
        "db_url": f"sqlite:///{state_dir}/db/worker-{{slot}}.db" if course.sqlite_path
        else course.db_url,
        "staging_root": str(state_dir / "staging"),
        "scratch_root": str(state_dir / "scratch" / "w{slot}"),
        "timeout": options.timeout, "notebook_budget": options.notebook_budget,
        "unresponsive_grace": options.unresponsive_grace,
        "feedback": options.feedback,
    } for student in todo]


def grade_class(course: Course, options: Options | None = None) -> RunSummary:
    options = options or Options()
    start = time.monotonic()
    notebooks = gradebook_notebooks(course)
    students = course.students()
    if options.students:
        unknown = sorted(set(options.students) - set(students))
        if unknown:
            raise GradingError(f"no collected submission for: {', '.join(unknown)}")
        students = [s for s in students if s in options.students]
    expected = list(notebooks)  # the assignment's notebooks, as the gradebook knows them

    state = load_state(course)
    fp = fingerprint(course, options)
    hashes, todo, skipped = {}, [], []
    for student in students:
        hashes[student] = hashlib.sha256(
            (tree_hash(course.submission_dir(student)) + fp).encode()).hexdigest()
        previous = state["students"].get(student, {})
        fresh = (previous.get("hash") == hashes[student] and previous.get("status") == "graded"
                 and (course.autograded_root / student / course.assignment).is_dir())
        if fresh and not options.force:
            skipped.append(student)
        else:
            todo.append(student)

    graded, failed = [], []
    problems: dict[str, list[str]] = {}
    for folder in ("db", "staging", "scratch"):  # what an interrupted run left behind
        remove_tree(str(course.state_dir / folder))
    if todo:
        settings = _prepare_sandbox(course, options)
        workers = max(1, min(options.workers or os.cpu_count() or 1, len(todo)))
        if course.sqlite_path:
            for slot in range(workers):
                copy_gradebook(course, course.state_dir / "db" / f"worker-{slot}.db")
        tasks = {t["student"]: t for t in _tasks(course, options, todo, expected, settings, hashes)}
        for result in _run_pool(tasks, workers, options.progress):
            student = result["student"]
            record = {"hash": result["hash"], "status": result["status"],
                      "graded_at": dt.datetime.now().isoformat(timespec="seconds"),
                      "issues": result["issues"], "notebooks": result["notebooks"],
                      "intake": result.get("intake", {}), "log": result.get("log", ""),
                      "timings": result.get("timings", {})}
            if result["status"] == "graded":
                try:
                    record_grades(course, result)
                    record["scores"] = scores_of(course, student)
                    graded.append(student)
                    if record["issues"]:
                        problems[student] = list(record["issues"])
                except Exception as exc:  # keep going; the student is retried next run
                    record["status"] = "error"
                    record["issues"].append(f"could not write the gradebook: {exc}")
                    failed.append(student)
            else:
                failed.append(student)
            state["students"][student] = record
            save_state(course, state)
        for folder in ("db", "staging", "scratch"):
            remove_tree(str(course.state_dir / folder))
    return RunSummary(graded=graded, skipped=skipped, failed=failed,
                      seconds=time.monotonic() - start, state_path=course.state_dir / "state.json",
                      problems=problems)


def _run_pool(tasks: dict[str, dict], workers: int, progress: bool):
    """Yield results as students finish; survive a worker process dying."""
    from tqdm import tqdm

    from .worker import grade_student, init_worker

    ctx = mp.get_context("spawn")
    pending = list(tasks)
    attempts = {s: 0 for s in tasks}
    bar = tqdm(total=len(tasks), unit="student", desc="grading", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        while pending:
            slots = ctx.Queue()
            for slot in range(workers):
                slots.put(slot)
            broken = False
            with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                        initializer=init_worker, initargs=(slots,)) as pool:
                futures = {pool.submit(grade_student, tasks[s]): s for s in pending}
                for future in cf.as_completed(futures):
                    student = futures[future]
                    try:
                        result = future.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        continue
                    except Exception as exc:
                        result = {"student": student, "hash": tasks[student]["hash"],
                                  "status": "error", "notebooks": {},
                                  "issues": [f"grading failed: {type(exc).__name__}: {exc}"]}
                    pending.remove(student)
                    bar.update(1)
                    bar.set_postfix_str(student[:20])
                    yield result
            if broken:
                retry = []
                for student in pending:
                    attempts[student] += 1
                    if attempts[student] >= 2:
                        bar.update(1)
                        yield {"student": student, "hash": tasks[student]["hash"],
                               "status": "error", "notebooks": {},
                               "issues": ["the grading worker process died twice on this "
                                          "submission"]}
                    else:
                        retry.append(student)
                pending = retry
    finally:
        bar.close()
