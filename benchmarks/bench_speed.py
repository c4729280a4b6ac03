"""Time the answer key's three L1-distance versions at the sizes problem 3's timing cell uses.

The notebook's chart must tell the truth: two loops slowest, then one loop, no loops
fastest, on an ordinary laptop and on 2 cores. Prints milliseconds per version (best of 5)
and the speed-ups over two loops, for the notebook's sizes (``helpers.speed.SIZES``) and, with
``--sizes``, for others.

    .venv/bin/python benchmarks/bench_speed.py [--sizes 20x200x3072 100x500x64 ...]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers.speed import SIZES, speed_inputs, time_versions  # noqa: E402


def answer_key_versions() -> dict:
    """The source notebook's solutions of the three versions, defined as a notebook would."""
    import nbformat

    nb = nbformat.read(REPO / "source" / "section03" / "03_l1_vectorization.ipynb", as_version=4)
    namespace = {"np": np}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*$", "", cell.source, flags=re.M), namespace)  # noqa: S102
    return {"two loops": namespace["compute_distances_two_loops"],
            "one loop": namespace["compute_distances_one_loop"],
            "no loops": namespace["compute_distances_no_loops"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=[], help="NUM_TESTxNUM_TRAINxD, e.g. 100x500x64")
    args = parser.parse_args(argv)
    versions = answer_key_versions()
    sizes = [tuple(SIZES)] + [tuple(int(v) for v in s.split("x")) for s in args.sizes]
    print(f"{'test x train x D':>18s} {'two loops':>10s} {'one loop':>10s} {'no loops':>10s}   speed-up over two loops")
    for size in sizes:
        X_test, X_train = speed_inputs(*size)
        times = time_versions(versions, X_test, X_train, repeats=5)
        ms = [times[k] * 1e3 for k in versions]
        print(f"{'x'.join(map(str, size)):>18s} {ms[0]:9.1f}m {ms[1]:9.1f}m {ms[2]:9.1f}m   "
              f"one loop {ms[0] / ms[1]:.1f}x, no loops {ms[0] / ms[2]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
