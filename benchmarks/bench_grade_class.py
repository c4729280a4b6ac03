"""Benchmark: grading a class with ``python -m autograder grade`` vs plain ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grade_class.py [--students 40] [--workers N] [--dir DIR]

Builds a synthetic section03 class (the answer key, blank submissions and students with one
known mistake each, cycled up to ``--students``), copies it, then in the same run grades one
copy with plain sequential ``nbgrader autograde section03`` and the other with the
autograder (sandbox on, ``--workers`` processes, feedback off since nbgrader's autograde does
not write feedback either). Prints students per minute for both and their ratio, and checks
that both gave every student the same autograded scores; then where the autograder's time
went (``autograder results --timings``).

Not a test: timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build_class(root: Path, students: int) -> list[str]:
    from autograder.coursebuild import create_course, solution_sources, write_submission
    from autograder.sample_class import mistake_students, with_answer

    create_course(root)
    key = solution_sources(root / "source" / "section03")
    plans = [("key", key), ("blank", {})] + [
        (name, with_answer(key, m.notebook, m.answer, m.code))
        for name, m in mistake_students(all_mistakes=True).items()]
    names = []
    for i in range(students):
        label, answers = plans[i % len(plans)]
        name = f"s{i:03d}-{label}"[:40]
        write_submission(root, name, answers)
        names.append(name)
    return names


def autograded_scores(root: Path) -> dict:
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        for sub in gb.find_assignment("section03").submissions:
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.cell.cell_type == "code":
                        out[(sub.student.id, nb.name, g.name)] = g.auto_score
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    args = parser.parse_args(argv)

    from autograder.course import Course
    from autograder.grade import Options, grade_class

    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-grade-"))
    plain_root, ours_root = work / "plain", work / "ours"
    for path in (plain_root, ours_root):
        shutil.rmtree(path, ignore_errors=True)
    print(f"building a class of {args.students} students in {work} ...", flush=True)
    names = build_class(plain_root, args.students)
    shutil.copytree(plain_root, ours_root)

    print("plain nbgrader autograde (sequential) ...", flush=True)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "section03", "--force",
                           f"--CourseDirectory.root={plain_root}",
                           f"--CourseDirectory.db_url=sqlite:///{plain_root}/gradebook.db"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    plain_seconds = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)

    print(f"python -m autograder grade (sandbox on, {args.workers} workers) ...", flush=True)
    start = time.monotonic()
    summary = grade_class(Course(ours_root, "section03"),
                          Options(workers=args.workers, feedback=False, progress=True))
    ours_seconds = time.monotonic() - start

    plain_rate = len(names) / plain_seconds * 60
    ours_rate = len(summary.graded) / ours_seconds * 60
    same = autograded_scores(plain_root) == autograded_scores(ours_root)
    print()
    print(f"students                      {len(names)}")
    print(f"plain nbgrader autograde      {plain_seconds:7.1f} s   {plain_rate:6.2f} students/min")
    print(f"autograder grade ({args.workers} workers)  {ours_seconds:7.1f} s   {ours_rate:6.2f} students/min")
    print(f"speed-up                      {ours_rate / plain_rate:6.2f}x   (cores: {os.cpu_count()})")
    print(f"same autograded scores        {same}")
    print()
    print("where the autograder's time went (seconds per notebook, mean over students):")
    from autograder.grade import load_state
    from autograder.results import format_table
    from autograder.timings import breakdown

    print(format_table(*breakdown(load_state(Course(ours_root, "section03")))))
    return 0 if same and not summary.failed else 1


if __name__ == "__main__":
    sys.exit(main())
