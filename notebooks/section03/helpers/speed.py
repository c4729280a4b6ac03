"""Timing the three L1-distance versions of problem 3 and plotting the speed-up.

Student-safe: shipped in ``release/section03/helpers/``. It only calls the student's own
functions; it contains no solution.
"""
from __future__ import annotations

import time

import numpy as np


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


def plot_speedup(times: dict, baseline: str | None = None):
    """Bar chart of each version's speed-up over ``baseline`` (default: the slowest).

    Returns the matplotlib Figure. Bars carry their values as text, so the chart reads
    without colour.
    """
    import matplotlib.pyplot as plt

    if not times:
        raise ValueError("nothing to plot: none of the versions ran")
    baseline = baseline or max(times, key=times.get)
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
