"""Time the hidden tests of each notebook on the answer key, as the grader runs them.

Target: well under a second per notebook, so kernel start-up stays the main cost of
grading. For each answer: plan (inputs), the kernel's side of asking (run here in-process
on the answer key's namespace, as the kernel would), decoding, judging. Prints seconds per
notebook (best of 5).

    .venv/bin/python benchmarks/bench_checks.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import checks  # noqa: E402
from helpers.rules import Cell  # noqa: E402
from tests.answer_harness import grade, namespace_of  # noqa: E402
from autograder.coursebuild import NOTEBOOKS, solution_sources  # noqa: E402


def main():
    print(f"{'notebook':24s} {'checks':>6s} {'seconds':>8s}")
    for notebook in NOTEBOOKS:
        sources = solution_sources(code_only=True)[notebook]
        namespace = namespace_of(*sources.items())
        cells = [Cell(src, True, gid) for gid, src in sources.items()]
        names = [n for n in checks.GRADED_NAMES if n in sources]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for name in names:
                assert grade(name, namespace, cells) is None, name
            best = min(best, time.perf_counter() - start)
        print(f"{notebook:24s} {len(names):6d} {best:8.3f}")


if __name__ == "__main__":
    main()
