"""Time the hidden tests (helpers.checks) of each notebook on the answer key.

SPEC target: well under a second per notebook, so kernel start-up stays the main cost of
grading. Prints seconds per notebook (best of 5).

    .venv/bin/python benchmarks/bench_checks.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import checks  # noqa: E402
from helpers.mistakes import define  # noqa: E402
from tests.section03_course import NOTEBOOKS, solution_sources  # noqa: E402


def answer_key(notebook):
    namespace = {}
    for gid, source in solution_sources(notebook).items():
        define(source, gid, f"<solution {gid}>", namespace)
    return namespace


def main():
    print(f"{'notebook':24s} {'checks':>6s} {'seconds':>8s}")
    for notebook in NOTEBOOKS:
        ns = answer_key(notebook)
        names = [n for n in checks.GRADED_NAMES if n in ns]
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for name in names:
                checks.check(name, *((ns[name], ns["forward"]) if name == "backward" else (ns[name],)))
            best = min(best, time.perf_counter() - start)
        print(f"{notebook:24s} {len(names):6d} {best:8.3f}")


if __name__ == "__main__":
    main()
