"""Results of a graded class: the table, the CSV export, feedback regeneration."""
from __future__ import annotations

import concurrent.futures as cf
import copy
import multiprocessing as mp
import os
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins.export import CsvExportPlugin
from traitlets.config import Config

from .course import Course


def reports_dir(course: Course) -> Path:
    path = course.root / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def table(course: Course) -> tuple[list[str], list[list]]:
    """Header and rows: student, one column per notebook (score/max), total, pending manual."""
    with Gradebook(course.db_url) as gb:
        assignment = gb.find_assignment(course.assignment)
        notebooks = sorted(nb.name for nb in assignment.notebooks)
        header = ["student", *notebooks, "total", "max", "to grade by hand"]
        rows = []
        for sub in sorted(assignment.submissions, key=lambda s: s.student.id):
            by_nb = {nb.name: nb for nb in sub.notebooks}
            row = [sub.student.id]
            for name in notebooks:
                nb = by_nb.get(name)
                row.append(round(nb.score, 2) if nb is not None else None)
            pending = sum(1 for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade)
            row += [round(sub.score, 2), round(sub.max_score, 2), pending]
            rows.append(row)
        return header, rows


def format_table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_results(course: Course) -> None:
    header, rows = table(course)
    print(format_table(header, rows))


def export_csv(course: Course, dest: Path | None = None) -> Path:
    """nbgrader's own CSV exporter, limited to this assignment."""
    dest = dest or reports_dir(course) / f"{course.assignment}-grades.csv"
    cfg = Config()
    cfg.CsvExportPlugin.to = str(dest)
    cfg.CsvExportPlugin.assignment = [course.assignment]
    plugin = CsvExportPlugin(config=cfg)
    with Gradebook(course.db_url) as gb:
        plugin.export(gb)
    return dest


def _feedback_one(course_root: str, assignment: str, student: str) -> str:
    course = Course(Path(course_root), assignment)
    cfg = copy.deepcopy(course.config)
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student
    cfg.GenerateFeedback.force = True
    GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg).start()
    return student


def generate_feedback(course: Course, workers: int | None = None) -> tuple[list[str], dict[str, str]]:
    """Feedback HTML for every autograded student, from the course gradebook (read only).

    Returns (students done, {student: why their feedback failed}); one student's failure
    never stops the others.
    """
    root = course.autograded_root
    students = sorted(p.name for p in root.iterdir()
                      if (p / course.assignment).is_dir()) if root.is_dir() else []
    done, failed = [], {}
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers or os.cpu_count(), mp_context=ctx) as pool:
        futures = {pool.submit(_feedback_one, str(course.root), course.assignment, s): s
                   for s in students}
        for future in cf.as_completed(futures):
            try:
                done.append(future.result())
            except Exception as exc:  # reported to the TA below, the class goes on
                failed[futures[future]] = f"{type(exc).__name__}: {exc}"
    return sorted(done), failed


def write_outputs(course: Course) -> dict[str, Path]:
    """After grading: the grades CSV and the class report."""
    from .report import write_report

    out = {"grades CSV": export_csv(course)}
    out["class report"] = write_report(course)
    return out


def manual_pending(course: Course) -> list[tuple[str, str, str]]:
    """(student, notebook, cell) still needing a grader's score."""
    out = []
    with Gradebook(course.db_url) as gb:
        try:
            assignment = gb.find_assignment(course.assignment)
        except MissingEntry:
            return out
        for sub in assignment.submissions:
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.needs_manual_grade:
                        out.append((sub.student.id, nb.name, g.name))
    return sorted(out)
