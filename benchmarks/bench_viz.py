"""How long the sliding-filter animations take to render and how big they are when embedded.

Run from the repository root:

    .venv/bin/python benchmarks/bench_viz.py

For each animation a notebook embeds (problem 2(a), 2(b), 2(c) and the 5×5 demo with a 3×3
filter and padding 1, the largest), prints the frame count, the wall time of
``play(anim)`` (building the figure + rendering every frame + base64 in ``to_jshtml``), the
embedded size in bytes against matplotlib's ``animation.embed_limit``, and the GIF's time and size.
Not collected by pytest (this folder is outside ``testpaths``); numbers, never pass/fail.
"""
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from helpers import viz  # noqa: E402

I = [[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 2], [0, -2, 4, 0]]
F = [[1, -1], [0, 2]]
DEMO_X = (np.arange(25).reshape(5, 5) % 7) - 3
DEMO_W = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]

CASES = [
    ("2(a) conv 4×4, P=0, S=1", lambda: viz.animate_conv(I, F, 1, 0)),
    ("2(b) conv 4×4, P=1, S=2", lambda: viz.animate_conv(I, F, 2, 1)),
    ("2(c) max pool 3×3, P=1, S=3", lambda: viz.animate_pool(I, 3, 3, 1)),
    ("demo conv 5×5, 3×3, P=1, S=1", lambda: viz.animate_conv(DEMO_X, DEMO_W, 1, 1)),
]


def main(repeats: int = 3) -> None:
    limit = matplotlib.rcParams["animation.embed_limit"] * 1024 * 1024
    print(f"matplotlib {matplotlib.__version__}, embed_limit {limit / 2**20:.0f} MB, "
          f"best of {repeats}")
    print(f"{'animation':32} {'frames':>6} {'jshtml s':>9} {'jshtml bytes':>13} "
          f"{'% limit':>8} {'gif s':>6} {'gif bytes':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES:
            best, size, frames = float("inf"), 0, 0
            for _ in range(repeats):
                t0 = time.perf_counter()
                html = viz.play(make()).data
                best = min(best, time.perf_counter() - t0)
                size = len(html.encode())
                frames = viz.embedded_frame_count(html)
            gif_best, gif_size = float("inf"), 0
            for _ in range(repeats):
                path = Path(tmp, "a.gif")
                t0 = time.perf_counter()
                viz.save_gif(make(), path)
                gif_best = min(gif_best, time.perf_counter() - t0)
                gif_size = path.stat().st_size
            print(f"{name:32} {frames:>6} {best:>9.2f} {size:>13,} {100 * size / limit:>7.1f}% "
                  f"{gif_best:>6.2f} {gif_size:>10,}")


if __name__ == "__main__":
    main()
