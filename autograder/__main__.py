"""Command line of the TA tooling: ``python -m autograder <command>``.

    grade ASSIGNMENT      grade every collected submission (parallel, sandboxed, resumable),
                          write feedback, the grades CSV and the class report
    report ASSIGNMENT     (re)write the class report from the gradebook and the last run
    export ASSIGNMENT     grades as CSV (nbgrader's CSV exporter)
    feedback ASSIGNMENT   (re)generate feedback HTML from the gradebook (after manual grading)
    results ASSIGNMENT    print the per-student, per-notebook table
    sandbox-check         say whether the sandbox works on this machine
    demo                  build a sample class, grade it, print the results and the report path
    build                 regenerate release/ and notebooks/ (autograder.build)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .course import REPO_ROOT

GRADE_EXIT_STATUS = """\
exit status: 0 when every student was graded -- problems in a student's own submission (a
corrupt or missing notebook, a timeout, a crash) are listed under the summary line and in the
class report, and score what they earn, but are not an error of the run; 1 when some student
could not be graded (listed; retried on the next run); 2 when the class cannot be graded as
asked (wrong course or assignment, no gradebook entry, sandbox unavailable)."""


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more (got {text!r})")
    return value


def _add_sandbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code WITHOUT bubblewrap (it gets your privileges); the "
                        "hidden tests still run outside the kernel and the limits still apply")
    p.add_argument("--memory-mb", type=positive_int, default=None,
                   help="address-space limit per kernel (default: SandboxKernelManager.memory_mb)")
    p.add_argument("--cpu-seconds", type=positive_int, default=None,
                   help="CPU-time limit per notebook (default: SandboxKernelManager.cpu_seconds)")
    p.add_argument("--nproc", type=positive_int, default=None,
                   help="process/thread limit per kernel (default: SandboxKernelManager.nproc)")
    p.add_argument("--timeout", type=positive_int, default=None,
                   help="seconds per cell (default: Execute.timeout of nbgrader_config.py)")
    p.add_argument("--notebook-budget", type=positive_int, default=None,
                   help="wall-clock seconds per notebook (default 900)")


def _sandbox_config(args):
    from .sandbox import SandboxConfig

    return SandboxConfig(enabled=False if args.no_sandbox else None, memory_mb=args.memory_mb,
                         cpu_seconds=args.cpu_seconds, nproc=args.nproc)


def _course(args, *, graded: bool = False):
    """The course and assignment of the command line, checked (CourseError says what to fix)."""
    from .course import Course

    return Course(Path(args.course), getattr(args, "assignment", None)).validate(graded=graded)


def _one_line(issue: str) -> str:
    """An issue as one console line (a traceback: its first and last lines)."""
    lines = [line.strip() for line in issue.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else issue
    return f"{lines[0]} ... {lines[-1]}"


def _print_problems(course, summary) -> None:
    """Under the summary line: each graded student's problems, then why each failure failed."""
    from .grade import load_state

    for student, issues in sorted(summary.problems.items()):
        for issue in issues:
            print(f"  {student}: {_one_line(issue)}")
    if summary.failed:
        records = load_state(course).get("students", {})
        for student in sorted(summary.failed):
            issues = records.get(student, {}).get("issues") or ["no reason recorded"]
            for issue in issues:
                print(f"  {student} (not graded): {_one_line(issue)}")
    if summary.problems or summary.failed:
        print(f"  (details: {summary.state_path} and the class report)")


def cmd_grade(args) -> int:
    from .grade import Options, grade_class
    from .results import print_results, write_outputs

    course = _course(args)
    options = Options(workers=args.workers, force=args.force, sandbox=_sandbox_config(args),
                      students=args.student or None, feedback=not args.no_feedback,
                      progress=not args.quiet, timeout=args.timeout,
                      notebook_budget=args.notebook_budget)
    summary = grade_class(course, options)
    graded = f"graded {len(summary.graded)}"
    if summary.problems:
        graded += f" ({len(summary.problems)} with problems: see below)"
    print(f"{graded}, unchanged {len(summary.skipped)}, failed {len(summary.failed)}"
          f"{' (see below)' if summary.failed else ''} in {summary.seconds:.1f} s")
    _print_problems(course, summary)
    outputs = write_outputs(course)
    print_results(course)
    for label, path in outputs.items():
        print(f"{label}: {path}")
    return 1 if summary.failed else 0


def cmd_report(args) -> int:
    from .report import write_report

    print(write_report(_course(args, graded=True), Path(args.out) if args.out else None))
    return 0


def cmd_export(args) -> int:
    from .results import export_csv

    print(export_csv(_course(args, graded=True), Path(args.out) if args.out else None))
    return 0


def cmd_feedback(args) -> int:
    from .results import generate_feedback

    done, failed = generate_feedback(_course(args, graded=True), workers=args.workers)
    print(f"feedback written for {len(done)} student(s)")
    for student, why in sorted(failed.items()):
        print(f"error: no feedback for {student}: {why}", file=sys.stderr)
    return 1 if failed else 0


def cmd_results(args) -> int:
    from .results import format_table, print_results

    course = _course(args, graded=True)
    if args.timings:
        from .grade import load_state
        from .timings import breakdown

        header, rows = breakdown(load_state(course))
        if not rows:
            print("no timings recorded yet: grade with `autograder grade` first")
            return 0
        print("seconds per notebook, mean over the students graded in the last runs")
        print(format_table(header, rows))
        return 0
    print_results(course)
    return 0


def cmd_sandbox_check(args) -> int:
    import copy
    import tempfile

    from .sandbox import SandboxKernelManager, SandboxUnavailable, check_sandbox

    cfg = copy.deepcopy(_course(args).config)  # the course's sandbox settings
    _sandbox_config(args).apply(cfg)
    try:
        with tempfile.TemporaryDirectory(prefix="autograder-check-") as tmp:
            check_sandbox(SandboxKernelManager(config=cfg), Path(tmp))
    except SandboxUnavailable as exc:
        print(f"sandbox NOT available: {exc}", file=sys.stderr)
        return 2
    print("sandbox OK: bubblewrap can isolate student kernels on this machine")
    return 0


def cmd_demo(args) -> int:
    from .sample_class import run_demo

    return run_demo(Path(args.dir), workers=args.workers, sandbox=_sandbox_config(args),
                    fresh=not args.keep, all_mistakes=args.all_mistakes)


def _ta_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "the command cannot do what was asked": a message, exit 2, no traceback."""
    from .course import CourseError
    from .grade import GradingError
    from .sandbox import SandboxUnavailable

    return CourseError, GradingError, SandboxUnavailable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def course_args(p, assignment=True):
        if assignment:
            p.add_argument("assignment", help="assignment id, e.g. section03")
        p.add_argument("--course", default=os.getcwd() if (Path.cwd() / "nbgrader_config.py").exists()
                       else str(REPO_ROOT), help="nbgrader course directory (default: here / the repo)")

    p = sub.add_parser("grade", help="grade every collected submission", epilog=GRADE_EXIT_STATUS)
    course_args(p)
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel students, 1 or more (default: CPU count)")
    p.add_argument("--force", action="store_true", help="regrade everyone, changed or not")
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--no-feedback", action="store_true", help="skip feedback HTML")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_sandbox_args(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("report", help="write the class report (HTML)")
    course_args(p)
    p.add_argument("--out", help="output file (default: reports/<assignment>-class-report.html)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("export", help="grades as CSV")
    course_args(p)
    p.add_argument("--out", help="output file (default: reports/<assignment>-grades.csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("feedback", help="(re)generate feedback from the gradebook")
    course_args(p)
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel students, 1 or more (default: CPU count)")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("results", help="print the results table")
    course_args(p)
    p.add_argument("--timings", action="store_true",
                   help="where grading time went instead: seconds per notebook for kernel start, "
                        "cells, asking, checking, sanitising, saving; intake and feedback per student")
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("sandbox-check", help="check that bubblewrap works here")
    course_args(p, assignment=False)
    _add_sandbox_args(p)
    p.set_defaults(func=cmd_sandbox_check)

    p = sub.add_parser("demo", help="grade a sample class end to end")
    p.add_argument("--dir", default=str(REPO_ROOT / "build" / "demo"), help="where to build the class")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel students, 1 or more (default: CPU count)")
    p.add_argument("--keep", action="store_true", help="reuse an existing demo class (resume)")
    p.add_argument("--all-mistakes", action="store_true",
                   help="one student per catalogue entry (default: one per distinct mistake)")
    _add_sandbox_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("build", help="regenerate release/ and notebooks/", add_help=False)
    p.set_defaults(func=None)

    args, rest = parser.parse_known_args(argv)
    if args.command == "build":
        from .build import main as build_main

        return build_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.func(args)
    except Exception as exc:
        if isinstance(exc, _ta_errors()):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
