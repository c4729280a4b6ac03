"""Benchmark: grading a class with ``python -m autograder grade`` vs plain ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grade_class.py [--students 40] [--workers N] [--dir DIR]

Builds a synthetic section03 class (the answer key, blank submissions and students with one
known mistake each, cycled up to ``--students``), copies it, then in the same run grades one
copy with plain sequential ``nbgrader autograde section03`` (the course's pipeline and
sandbox), one with stock nbgrader (run where no ``nbgrader_config.py`` is found: default
pipeline, no sandbox) and one with the autograder (sandbox on, ``--workers`` processes,
feedback off since nbgrader's autograde does not write feedback either); and measures the
kernel floor, an empty numpy + pyplot notebook through the same sandboxed path (median of
5). Prints students per minute for each, ``speed-up N.NNx`` (over plain), the worker seconds
per notebook beside the floor as ``floor ratio N.NN``, checks that plain and autograder gave
every student the same autograded scores, then where the autograder's time went
(``autograder results --timings``).

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


def nbgrader_autograde(root: Path, *, cwd: Path) -> float:
    """Seconds for ``nbgrader autograde section03`` on the class in ``root``, run from ``cwd``:
    the repository (the course's ``nbgrader_config.py``: its pipeline and sandbox) or an empty
    folder (stock nbgrader: default pipeline, no sandbox, ``--Autograde`` defaults)."""
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
               PYTHONPATH=str(REPO))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "section03", "--force",
                           f"--CourseDirectory.root={root}",
                           f"--CourseDirectory.db_url=sqlite:///{root}/gradebook.db"],
                          cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
    return seconds


def kernel_floor(root: Path, repeats: int = 5) -> float:
    """Median seconds of an empty numpy + pyplot notebook through the grading kernel's path
    (:class:`autograder.execute.SandboxedExecute`: sandboxed kernel start, the cell, shutdown)."""
    import statistics

    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.course import Course
    from autograder.execute import SandboxedExecute

    config = Course(root, "section03").config
    folder = root / "floor"
    folder.mkdir(exist_ok=True)
    seconds = []
    for _ in range(repeats):
        nb = new_notebook(cells=[new_code_cell("import numpy as np\nimport matplotlib.pyplot as plt\n")])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        start = time.perf_counter()
        SandboxedExecute(config=config).preprocess(
            nb, {"metadata": {"path": str(folder)}, "nbgrader": {"notebook": "floor"}})
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def worker_seconds_per_notebook(state: dict) -> float:
    """A worker's seconds per notebook graded: intake, each notebook and feedback, over notebooks."""
    seconds, notebooks = 0.0, 0
    for record in state.get("students", {}).values():
        seconds += sum(record.get("timings", {}).values())
        for info in record.get("notebooks", {}).values():
            if info.get("timings"):
                seconds += info["timings"].get("total", 0.0)
                notebooks += 1
    return seconds / max(1, notebooks)


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

    stock_root = work / "stock"
    shutil.rmtree(stock_root, ignore_errors=True)
    shutil.copytree(plain_root, stock_root)
    empty = work / "no-config"
    empty.mkdir(exist_ok=True)

    print("plain nbgrader autograde (sequential, the course's pipeline) ...", flush=True)
    plain_seconds = nbgrader_autograde(plain_root, cwd=REPO)
    print("stock nbgrader autograde (sequential, default pipeline, no sandbox) ...", flush=True)
    stock_seconds = nbgrader_autograde(stock_root, cwd=empty)
    print("kernel floor (empty numpy + pyplot notebook, sandboxed, median of 5) ...", flush=True)
    floor = kernel_floor(ours_root)

    print(f"python -m autograder grade (sandbox on, {args.workers} workers) ...", flush=True)
    start = time.monotonic()
    summary = grade_class(Course(ours_root, "section03"),
                          Options(workers=args.workers, feedback=False, progress=True))
    ours_seconds = time.monotonic() - start

    from autograder.grade import load_state
    from autograder.results import format_table
    from autograder.timings import breakdown

    state = load_state(Course(ours_root, "section03"))
    plain_rate = len(names) / plain_seconds * 60
    stock_rate = len(names) / stock_seconds * 60
    ours_rate = len(summary.graded) / ours_seconds * 60
    per_notebook = worker_seconds_per_notebook(state)
    same = autograded_scores(plain_root) == autograded_scores(ours_root)
    print()
    print(f"students                      {len(names)}")
    print(f"plain nbgrader autograde      {plain_seconds:7.1f} s   {plain_rate:6.2f} students/min"
          "   (the course's pipeline, sandboxed, sequential)")
    print(f"stock nbgrader autograde      {stock_seconds:7.1f} s   {stock_rate:6.2f} students/min"
          "   (default pipeline, no sandbox, sequential)")
    print(f"autograder grade ({args.workers} workers)  {ours_seconds:7.1f} s   {ours_rate:6.2f} students/min")
    print(f"speed-up {ours_rate / plain_rate:.2f}x   (over plain; cores: {os.cpu_count()})")
    print(f"speed-up over stock {ours_rate / stock_rate:.2f}x")
    print(f"kernel floor                  {floor:7.2f} s   (empty numpy + pyplot notebook, sandboxed)")
    print(f"worker seconds per notebook   {per_notebook:7.2f} s")
    print(f"floor ratio {per_notebook / floor:.2f}")
    print(f"same autograded scores        {same}")
    print()
    print("where the autograder's time went (seconds per notebook, mean over students):")
    print(format_table(*breakdown(state)))
    return 0 if same and not summary.failed else 1


if __name__ == "__main__":
    sys.exit(main())
