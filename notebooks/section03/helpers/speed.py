"""Timing the three L1-distance versions of problem 3 and plotting the speed-up.

Student-safe: shipped in ``release/section03/helpers/``. It only calls the student's own
functions; it contains no solution.
"""
from __future__ import annotations

import time

import numpy as np

#: (num_test, num_train, D) of the timing cell: many short rows, so Python's per-iteration
#: cost dominates the loops (the lesson) while the broadcast array stays small (8 MB).
SIZES = (100, 500, 20)


def speed_inputs(num_test: int = SIZES[0], num_train: int = SIZES[1], dim: int = SIZES[2]):
    """Seeded uint8 "images" of ``dim`` pixels: (num_test, dim) and (num_train, dim) arrays."""
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (num_test, dim), dtype=np.uint8),
            rng.integers(0, 256, (num_train, dim), dtype=np.uint8))


def time_versions(versions: dict, X_test, X_train, repeats: int = 3) -> dict:
    """Best wall-clock time in seconds of each version on the same inputs.

    Parameters
    ----------
    versions : dict  name -> function(X_test, X_train) returning (num_test, num_train) distances
    X_test, X_train : arrays of shape (num_test, D) and (num_train, D)
    repeats : int  each version runs this many times; the fastest run counts

    Returns
    -------
    dict  name -> seconds, for the versions that ran; a version that raises
          ``NotImplementedError`` (not written yet) is left out with a note printed.
    """
    times = {}
    for name, fn in versions.items():
        best = np.inf
        try:
            for _ in range(repeats):
                start = time.perf_counter()
                fn(X_test, X_train)
                best = min(best, time.perf_counter() - start)
        except NotImplementedError:
            print(f"{name}: not written yet, skipped")
            continue
        times[name] = best
    return times


def plot_speedup(times: dict, baseline: str = "two loops"):
    """Bar chart of each version's speed-up over ``baseline`` (two loops; else the slowest).

    Returns the matplotlib Figure. Bars carry their values as text, so the chart reads
    without colour.
    """
    import matplotlib.pyplot as plt

    if not times:
        raise ValueError("nothing to plot: none of the versions ran")
    if baseline not in times:
        baseline = max(times, key=times.get)
    names = list(times)
    speedups = [times[baseline] / times[n] for n in names]
    fig, ax = plt.subplots(figsize=(6, 3), dpi=80)
    bars = ax.barh(names, speedups, color="#0072B2")
    ax.bar_label(bars, labels=[f"{s:.1f}x ({times[n] * 1e3:.1f} ms)" for s, n in zip(speedups, names)],
                 padding=3)
    ax.set_xlabel(f"speed-up over {baseline}")
    ax.set_xlim(0, max(speedups) * 1.4)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig
