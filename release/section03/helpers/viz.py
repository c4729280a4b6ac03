"""Sliding-filter pictures: watch a convolution or a max pool fill its output, one step at a time.

Student-safe: imports numpy, matplotlib and :mod:`helpers.sliding` only (IPython and ipywidgets
lazily, and only when asked for). Every number drawn comes from :mod:`helpers.sliding`, the same
step function the tests check, so the picture cannot disagree with the maths.

What a step picture shows, left to right (all cells the same size):

* the (padded) input with the window as a thick orange outline; padding cells are hatched and
  show their value (0 for a convolution, −∞ for a max pool); rows and columns are numbered in
  the padded grid;
* conv: the filter, then the elementwise products (each cell shows ``a×b`` and its value), with
  the arithmetic written out underneath (``1×1 + 2×(−1) + 4×0 + 3×2 = 5``);
  pool: the window's values, the winner with a bold edge and a star;
* the output, filled step by step; the cell being written has the same orange outline.

Notebook use (I, F are the handout's input and filter)
------------------------------------------------------
::

    from helpers.viz import play, animate_conv, animate_pool, draw_conv_step, draw_tiling
    play(animate_conv(I, F, stride=1, padding=0))      # 2(a): plays inline, survives export
    play(animate_conv(I, F, stride=2, padding=1))      # 2(b)
    play(animate_pool(I, 3, stride=3, padding=1))      # 2(c)
    draw_conv_step(I, F, stride=2, padding=1, step=5)  # one still, step counted from 1
    step_through_conv(I, F, 2, 1)                      # slider (live kernel) or all steps
    draw_tiling(32, F=5, S=2, P=0)                     # 1(b), numberless; invalid strip hatched
    draw_tiling(227, F=11, S=4, P=0)                   # AlexNet conv1: 55×55

Figures are :class:`matplotlib.figure.Figure` objects not managed by pyplot (a small subclass
with ``_repr_png_``): a notebook shows one when it is the cell's last expression or is passed to
``display``, exactly once, and nothing accumulates in pyplot's figure list. Call
``fig.savefig(...)`` to save one.

Artists carry a ``gid`` so tests (and curious students) can find them: ``"window"``,
``"input-cell-<r>-<c>"``, ``"input-value-<r>-<c>"``, ``"padding-<r>-<c>"``, ``"filter-value-<i>-<j>"``,
``"product-<i>-<j>"``, ``"product-expr-<i>-<j>"``, ``"sum"``, ``"output-cell-<r>-<c>"``,
``"output-value-<r>-<c>"``, ``"output-current"``, ``"window-value-<i>-<j>"``, ``"winner"``,
``"winner-marker"``, ``"title"``, ``"subtitle"``.
"""
from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import animation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from . import sliding

__all__ = [
    "draw_conv_step",
    "draw_pool_step",
    "animate_conv",
    "animate_pool",
    "play",
    "save_gif",
    "step_through_conv",
    "step_through_pool",
    "draw_tiling",
    "embedded_frame_count",
    "fmt",
    "PictureFigure",
    "COLORS",
]

# Okabe-Ito, the colour-blind-safe palette. Colour never carries meaning alone: the window is a
# thick outline, padding is hatched, the winner has a bold edge and a star.
COLORS = {
    "orange": "#E69F00",      # the window, and the output cell it writes
    "sky": "#56B4E9",         # filter cells; output cells already written
    "green": "#009E73",       # products; the last window in the tiling view
    "yellow": "#F0E442",      # inside of the window; the output cell being written
    "blue": "#0072B2",        # window centres in the tiling view
    "vermillion": "#D55E00",  # pool winner; strips no window covers
    "purple": "#CC79A7",      # the next window (one stride on) in the tiling view
}
_INK = "#000000"
_GRID = "#333333"
_PAD_INK = "#595959"
_PAD_HATCH = "#8C8C8C"
# Padding values sit on a small white box so the hatch lines never strike through "0" or "−∞".
_PAD_LABEL_BOX = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.9)
# The winner's star sits in the cell's top-right corner: above the digits centred in the cell
# (however wide the number) and inside the cell, so it never covers a neighbour or a label.
_STAR_AT = (0.84, 0.16)
_STAR_SIZE = 0.26  # marker size, as a fraction of a cell (in points)

# Text always uses the DejaVu Sans files bundled with matplotlib (never a system copy), so
# renders are the same on every machine.
_FONT_DIR = Path(matplotlib.get_data_path(), "fonts", "ttf")


def _font(size: float, bold: bool = False) -> FontProperties:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return FontProperties(fname=_FONT_DIR / name, size=size)


MINUS = "\u2212"


def fmt(v) -> str:
    """A number as the pictures print it: 5 not 5.0, −1 with a true minus sign, −∞ for -inf."""
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float):
        if np.isinf(v):
            return MINUS + "∞" if v < 0 else "∞"
        if v.is_integer() and abs(v) < 1e15:
            v = int(v)
        else:
            s = f"{v:.3g}"
            return s.replace("-", MINUS)
    return str(v).replace("-", MINUS)


def _operand(v) -> str:
    s = fmt(v)
    return f"({s})" if s.startswith(MINUS) else s


def _span(a: int, b: int) -> str:
    return f"{a}" if a == b else f"{a}–{b}"


class _OffscreenCanvas(FigureCanvasAgg):
    """Agg canvas for figures that are only ever saved (PNG, jshtml, GIF, inline display).

    ``draw_idle`` does nothing: nothing shows these figures on screen, and an animation's
    ``save`` would otherwise draw every frame twice (once "idle", once to save it).
    """

    def draw_idle(self, *args, **kwargs):
        pass


class PictureFigure(Figure):
    """A Figure that Jupyter shows by itself (``_repr_png_``), without pyplot.

    Rendered at twice its dpi and shown at its nominal size, so it stays crisp on a projector
    or a HiDPI screen. Not registered with pyplot: it appears once when it is a cell's last
    expression (or is passed to ``display``), never a second time at the end of the cell.
    """

    def _repr_png_(self):
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=2 * self.dpi, metadata={"Software": None})
        w, h = self.get_size_inches() * self.dpi
        return buf.getvalue(), {"width": int(round(w)), "height": int(round(h))}


def _new_figure(width_in: float, height_in: float, dpi: float) -> Figure:
    fig = PictureFigure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")
    _OffscreenCanvas(fig)
    return fig


def _fit_size(text: str, base: float, width_pt: float) -> float:
    """Font size (pt) no larger than ``base`` at which the longest line of ``text`` fits ``width_pt``."""
    longest = max((len(line) for line in text.split("\n")), default=1)
    return max(4.0, min(base, width_pt / (0.62 * max(longest, 1))))


# --------------------------------------------------------------------------- step pictures
class _StepPicture:
    """Draws one sliding-filter problem into an Axes once; :meth:`update` shows a step.

    Coordinates are in cells, y pointing down: cell (r, c) of the padded input is the unit square
    with top-left corner (c, r). The other panels sit to its right.
    """

    kind = ""

    def __init__(self, ax, steps, x, pad, stride, filt_shape, *, cell_in, compact=False):
        self.ax = ax
        self.steps = steps
        self.x = np.asarray(x)
        self.pad = pad
        self.stride = stride
        self.compact = compact
        self.cell_pt = cell_in * 72.0
        self.num_size = 0.40 * self.cell_pt
        n = len(steps)
        self.out_c = max(s.out_index[1] for s in steps) + 1
        self.out_r = n // self.out_c
        self.fr, self.fc = filt_shape
        nr, nc = self.x.shape
        self.hp, self.wp = nr + 2 * pad[0], nc + 2 * pad[1]
        self.artists: dict[str, object] = {}

    # ----- small drawing helpers
    def _add(self, artist, gid):
        artist.set_gid(gid)
        self.artists[gid] = artist
        return artist

    def _rect(self, x, y, w, h, gid, **kw):
        kw.setdefault("linewidth", 1.0)
        kw.setdefault("edgecolor", _GRID)
        kw.setdefault("facecolor", "white")
        return self._add(self.ax.add_patch(Rectangle((x, y), w, h, **kw)), gid)

    def _text(self, x, y, s, gid, size, bold=False, **kw):
        kw.setdefault("ha", "center")
        kw.setdefault("va", "center")
        kw.setdefault("color", _INK)
        t = self.ax.text(x, y, s, fontproperties=_font(size, bold), zorder=kw.pop("zorder", 5), **kw)
        return self._add(t, gid)

    def _num(self, x, y, v_text, gid, bold=False, **kw):
        size = _fit_size(v_text, self.num_size, 0.9 * self.cell_pt)
        return self._text(x, y, v_text, gid, size, bold, **kw)

    def _set_num(self, gid, s):
        t = self.artists[gid]
        t.set_text(s)
        t.set_fontsize(_fit_size(s, self.num_size, 0.9 * self.cell_pt))

    def _panel_label(self, x_center, y_top, s, gid):
        size = 0.28 * self.cell_pt if not self.compact else 0.34 * self.cell_pt
        return self._text(x_center, y_top - 0.45, s, gid, size, va="bottom")

    # ----- the panels every picture has
    def _draw_input(self, pad_value_text):
        mask = sliding.padding_mask(self.x.shape, self.pad)
        xp = sliding.padded_input(self.x, self.pad, fill=0)
        for r in range(self.hp):
            for c in range(self.wp):
                if mask[r, c]:
                    self._rect(c, r, 1, 1, f"padding-{r}-{c}", hatch="//",
                               hatchcolor=_PAD_HATCH, zorder=1)
                    self._num(c + 0.5, r + 0.5, pad_value_text, f"input-value-{r}-{c}",
                              color=_PAD_INK, bbox=_PAD_LABEL_BOX)
                else:
                    self._rect(c, r, 1, 1, f"input-cell-{r}-{c}", zorder=1)
                    self._num(c + 0.5, r + 0.5, fmt(xp[r, c]), f"input-value-{r}-{c}")
        if not self.compact:
            size = 0.24 * self.cell_pt
            for c in range(self.wp):
                self._text(c + 0.5, -0.22, str(c), f"col-index-{c}", size, color=_PAD_INK)
            for r in range(self.hp):
                self._text(-0.25, r + 0.5, str(r), f"row-index-{r}", size, color=_PAD_INK)
        lw = 0.075 * self.cell_pt
        self._rect(0, 0, self.fc, self.fr, "window-fill", facecolor=COLORS["yellow"],
                   alpha=0.45, linewidth=0, zorder=2)
        self._rect(0, 0, self.fc, self.fr, "window", fill=False, edgecolor=COLORS["orange"],
                   linewidth=lw, zorder=6, joinstyle="miter")

    def _draw_output(self, x0, y0):
        self.out_xy = (x0, y0)
        for k in range(self.out_r * self.out_c):
            r, c = divmod(k, self.out_c)
            self._rect(x0 + c, y0 + r, 1, 1, f"output-cell-{r}-{c}", zorder=1)
            self._num(x0 + c + 0.5, y0 + r + 0.5, "", f"output-value-{r}-{c}", bold=True)
        self._rect(x0, y0, 1, 1, "output-current", fill=False, edgecolor=COLORS["orange"],
                   linewidth=0.075 * self.cell_pt, zorder=6, joinstyle="miter")

    def _update_output(self, k):
        x0, y0 = self.out_xy
        for idx, st in enumerate(self.steps):
            r, c = st.out_index
            cell = self.artists[f"output-cell-{r}-{c}"]
            text = self.artists[f"output-value-{r}-{c}"]
            if idx < k:
                cell.set_facecolor(matplotlib.colors.to_rgba(COLORS["sky"], 0.35))
            elif idx == k:
                cell.set_facecolor(matplotlib.colors.to_rgba(COLORS["yellow"], 0.6))
            else:
                cell.set_facecolor("white")
            if idx <= k:
                self._set_num(f"output-value-{r}-{c}", fmt(st.value))
            text.set_visible(idx <= k)
        r, c = self.steps[k].out_index
        self.artists["output-current"].set_xy((x0 + c, y0 + r))

    def _move_window(self, st):
        r0, c0 = st.top_left
        self.artists["window"].set_xy((c0, r0))
        self.artists["window-fill"].set_xy((c0, r0))

    def _step_title(self, st, value_text):
        r0, c0 = st.top_left
        i, j = st.out_index
        where = (f"rows {_span(r0, r0 + self.fr - 1)}, cols {_span(c0, c0 + self.fc - 1)}")
        if self.compact:
            return f"Step {st.index + 1}: {where} → [{i}, {j}] = {value_text}"
        return (f"Step {st.index + 1} of {st.n_steps}: window at {where} "
                f"→ output[{i}, {j}] = {value_text}")

    def _formula(self, what):
        nr, nc = self.x.shape
        pr, pc = self.pad
        sr, sc = self.stride

        def one(n, f, s, p):
            return f"({n} − {f} + 2·{p})/{s} + 1 = {(n - f + 2 * p) // s + 1}"

        if (nr, self.fr, sr, pr) == (nc, self.fc, sc, pc):
            formula = one(nr, self.fr, sr, pr)
        else:
            formula = f"rows {one(nr, self.fr, sr, pr)}; cols {one(nc, self.fc, sc, pc)}"
        s_txt = f"{sr}" if sr == sc else f"({sr}, {sc})"
        p_txt = f"{pr}" if pr == pc else f"({pr}, {pc})"
        return (f"{what}: {nr}×{nc} input, {self.fr}×{self.fc} window, stride {s_txt}, "
                f"padding {p_txt} → {self.out_r}×{self.out_c} output:  {formula}")

    def _place_sum(self, texts, right):
        """The arithmetic line(s) under the panels, sized to the longest step; (bottom, top)."""
        width_pt = (right + 0.6) * self.cell_pt * 0.95
        base = (0.34 if not self.compact else 0.42) * self.cell_pt
        size = _fit_size(max(texts, key=len), base, width_pt)
        n_lines = max(t.count("\n") + 1 for t in texts)
        y = self.hp + (0.45 if not self.compact else 0.3)
        self._text((right - 0.6) / 2, y, texts[0], "sum", size, va="top", linespacing=1.35,
                   multialignment="left")
        bottom = y + n_lines * size * 1.35 / self.cell_pt + 0.3
        return bottom, (-2.75 if not self.compact else -1.0)

    def _finish_layout(self, right, bottom, top):
        self.ax.set_xlim(-0.6, right)
        self.ax.set_ylim(bottom, top)  # y grows downwards
        self.ax.set_aspect("equal")
        self.ax.set_axis_off()
        self.extent = (right + 0.6, bottom - top)

    def _titles(self, top_y, width, titles, subtitle):
        """Title (and subtitle) sized to the widest text any step will show."""
        longest = max(titles, key=len)
        width_pt = width * self.cell_pt * 0.97
        base = (0.40 if self.compact else 0.36) * self.cell_pt
        size = _fit_size(longest, base, width_pt)
        cx = width / 2 - 0.6
        self._text(cx, top_y, titles[0], "title", size, bold=True, va="center")
        if subtitle:
            self._text(cx, top_y + 0.62, subtitle, "subtitle",
                       _fit_size(subtitle, 0.25 * self.cell_pt, width_pt), color=_PAD_INK)


class _ConvPicture(_StepPicture):
    kind = "conv"

    def __init__(self, ax, x, w, stride=1, padding=0, *, cell_in=0.6, compact=False):
        steps = sliding.conv_steps(x, w, stride, padding)
        wa = np.asarray(steps[0].weights)
        super().__init__(ax, steps, x, sliding._pair(padding, "padding", 0),
                         sliding._pair(stride, "stride", 1), wa.shape,
                         cell_in=cell_in, compact=compact)
        self.w = wa
        gap = 1.5 if not compact else 1.1
        hp = self.hp
        pr, pc = self.pad
        self._draw_input("0")
        label = ("input" if pr == pc == 0 else f"input, padded by {pr if pr == pc else self.pad}"
                 " (hatched = 0)")
        if not compact:
            self._panel_label(self.wp / 2, -0.25, label, "label-input")
        x = self.wp + gap
        op_size = 0.5 * self.cell_pt
        if not compact:
            fy = (hp - self.fr) / 2
            self._text(x - gap / 2, hp / 2, "⊙", "op-times", op_size)
            for i in range(self.fr):
                for j in range(self.fc):
                    self._rect(x + j, fy + i, 1, 1, f"filter-cell-{i}-{j}",
                               facecolor=matplotlib.colors.to_rgba(COLORS["sky"], 0.35), zorder=1)
                    self._num(x + j + 0.5, fy + i + 0.5, fmt(wa[i, j]), f"filter-value-{i}-{j}")
            self._panel_label(x + self.fc / 2, fy, "filter", "label-filter")
            x += self.fc + gap
            self._text(x - gap / 2, hp / 2, "=", "op-equals", op_size)
            self.products_x = x
            for i in range(self.fr):
                for j in range(self.fc):
                    self._rect(x + j, fy + i, 1, 1, f"product-cell-{i}-{j}",
                               facecolor=matplotlib.colors.to_rgba(COLORS["green"], 0.25), zorder=1)
                    self._text(x + j + 0.5, fy + i + 0.27, "", f"product-expr-{i}-{j}",
                               0.2 * self.cell_pt, color=_PAD_INK)
                    self._num(x + j + 0.5, fy + i + 0.64, "", f"product-{i}-{j}")
            self._panel_label(x + self.fc / 2, fy, "window ⊙ filter", "label-products")
            x += self.fc + gap
            self._text(x - gap / 2, hp / 2, "Σ→", "op-sum", 0.42 * self.cell_pt)
        else:
            self._text(x - gap / 2, hp / 2, "→", "op-arrow", op_size)
        oy = (hp - self.out_r) / 2
        self._draw_output(x, oy)
        if not compact:
            self._panel_label(x + self.out_c / 2, oy, "output", "label-output")
        right = x + self.out_c + 0.3
        self.sum_texts = [self._sum_text(st, short=compact) for st in self.steps]
        bottom, top = self._place_sum(self.sum_texts, right)
        titles = [self._step_title(st, fmt(st.value)) for st in self.steps]
        self.titles = titles
        self._titles(top + (0.55 if not compact else 0.45), right + 0.6, titles,
                     None if compact else self._formula("convolution (cross-correlation)"))
        self._finish_layout(right, bottom, top)

    def _sum_text(self, st, short=False):
        """The arithmetic of one step: ``1×1 + 2×(−1) + 4×0 + 3×2 = 1 − 2 + 0 + 6 = 5``.

        Up to 4 terms on one line (``short``: without the products' values); larger filters get
        one line per filter row; ``short`` with more than 9 terms gives just ``Σ = total``.
        """
        terms = [f"{_operand(a)}×{_operand(b)}"
                 for a, b in zip(np.ravel(st.patch), np.ravel(st.weights))]
        total = fmt(st.total)
        prods = [fmt(p) for p in np.ravel(st.products)]
        running = prods[0] + "".join(
            f" − {p[1:]}" if p.startswith(MINUS) else f" + {p}" for p in prods[1:])
        if short:
            return f"{' + '.join(terms)} = {total}" if len(terms) <= 9 else f"Σ = {total}"
        if len(terms) <= 4:
            return f"{' + '.join(terms)} = {running} = {total}"
        rows = [" + ".join(terms[i * self.fc:(i + 1) * self.fc]) for i in range(self.fr)]
        return "  " + "\n+ ".join(rows) + f"\n= {total}"

    def update(self, k: int):
        """Show step ``k`` (0-based); returns the artists that changed."""
        st = self.steps[k]
        self._move_window(st)
        if not self.compact:
            for i in range(self.fr):
                for j in range(self.fc):
                    expr = f"{_operand(st.patch[i, j])}×{_operand(st.weights[i, j])}"
                    t = self.artists[f"product-expr-{i}-{j}"]
                    t.set_text(expr)
                    t.set_fontsize(_fit_size(expr, 0.22 * self.cell_pt, 0.95 * self.cell_pt))
                    self._set_num(f"product-{i}-{j}", fmt(st.products[i, j]))
        self._update_output(k)
        self.artists["title"].set_text(self.titles[k])
        self.artists["sum"].set_text(self.sum_texts[k])
        return list(self.artists.values())


class _PoolPicture(_StepPicture):
    kind = "pool"

    def __init__(self, ax, x, size, stride=None, padding=0, *, cell_in=0.6, compact=False):
        steps = sliding.pool_steps(x, size, stride, padding)
        f = sliding._pair(size, "the pool size", 1)
        s = f if stride is None else sliding._pair(stride, "stride", 1)
        super().__init__(ax, steps, x, sliding._pair(padding, "padding", 0), s, f,
                         cell_in=cell_in, compact=compact)
        gap = 1.5 if not compact else 1.1
        hp = self.hp
        pr, pc = self.pad
        self._draw_input(MINUS + "∞")
        label = ("input" if pr == pc == 0 else f"input, padded by {pr if pr == pc else self.pad}"
                 f" (hatched = {MINUS}∞, never wins)")
        if not compact:
            self._panel_label(self.wp / 2, -0.25, label, "label-input")
        lw = 0.075 * self.cell_pt
        vc = COLORS["vermillion"]
        marker_size = _STAR_SIZE * self.cell_pt
        self._rect(0, 0, 1, 1, "winner", fill=False, edgecolor=vc, linewidth=lw, zorder=7,
                   joinstyle="miter")
        self._add(self.ax.add_line(Line2D([_STAR_AT[0]], [_STAR_AT[1]], marker="*", markersize=marker_size,
                                          color=vc, markeredgecolor=_INK, markeredgewidth=0.8,
                                          linestyle="none", zorder=8)), "winner-marker")
        x = self.wp + gap
        op_size = 0.5 * self.cell_pt
        if not compact:
            fy = (hp - self.fr) / 2
            self._text(x - gap / 2, hp / 2, "→", "op-arrow", op_size)
            self.window_xy = (x, fy)
            for i in range(self.fr):
                for j in range(self.fc):
                    self._rect(x + j, fy + i, 1, 1, f"window-cell-{i}-{j}", zorder=1,
                               facecolor=matplotlib.colors.to_rgba(COLORS["yellow"], 0.45))
                    self._num(x + j + 0.5, fy + i + 0.5, "", f"window-value-{i}-{j}")
            self._rect(x, fy, 1, 1, "winner-window", fill=False, edgecolor=vc, linewidth=lw,
                       zorder=7, joinstyle="miter")
            self._add(self.ax.add_line(Line2D([x + _STAR_AT[0]], [fy + _STAR_AT[1]], marker="*",
                                              markersize=marker_size, color=vc,
                                              markeredgecolor=_INK, markeredgewidth=0.8,
                                              linestyle="none", zorder=8)),
                      "winner-window-marker")
            self._panel_label(x + self.fc / 2, fy, "window (★ = max)", "label-window")
            x += self.fc + gap
            self._text(x - gap / 2, hp / 2, "max→", "op-max", 0.36 * self.cell_pt)
        else:
            self._text(x - gap / 2, hp / 2, "→", "op-arrow", op_size)
        oy = (hp - self.out_r) / 2
        self._draw_output(x, oy)
        if not compact:
            self._panel_label(x + self.out_c / 2, oy, "output", "label-output")
        right = x + self.out_c + 0.3
        self.sum_texts = [self._max_text(st) for st in self.steps]
        bottom, top = self._place_sum(self.sum_texts, right)
        self.titles = [self._step_title(st, fmt(st.value)) for st in self.steps]
        self._titles(top + (0.55 if not compact else 0.45), right + 0.6, self.titles,
                     None if compact else self._formula("max pool"))
        self._finish_layout(right, bottom, top)

    @staticmethod
    def _max_text(st):
        vals = ", ".join(fmt(v) for v in np.ravel(st.patch))
        return f"max({vals}) = {fmt(st.value)}"

    def update(self, k: int):
        """Show step ``k`` (0-based); returns the artists that changed."""
        st = self.steps[k]
        self._move_window(st)
        winners = [("winner", "winner-marker", (0.0, 0.0))]
        if not self.compact:
            for i in range(self.fr):
                for j in range(self.fc):
                    t = self.artists[f"window-value-{i}-{j}"]
                    self._set_num(f"window-value-{i}-{j}", fmt(st.patch[i, j]))
                    t.set_color(_PAD_INK if st.in_padding[i, j] else _INK)
                    t.set_bbox(_PAD_LABEL_BOX if st.in_padding[i, j] else None)
                    self.artists[f"window-cell-{i}-{j}"].set_hatch(
                        "//" if st.in_padding[i, j] else None)
            winners.append(("winner-window", "winner-window-marker", None))
        for rect_gid, marker_gid, _ in winners:
            rect, marker = self.artists[rect_gid], self.artists[marker_gid]
            if st.winner is None:
                rect.set_visible(False)
                marker.set_visible(False)
                continue
            if rect_gid == "winner":
                r, c = st.winner_padded
                x0, y0 = c, r
            else:
                x0 = self.window_xy[0] + st.winner[1]
                y0 = self.window_xy[1] + st.winner[0]
            rect.set_visible(True)
            marker.set_visible(True)
            rect.set_xy((x0, y0))
            marker.set_data([x0 + _STAR_AT[0]], [y0 + _STAR_AT[1]])
        self._update_output(k)
        self.artists["title"].set_text(self.titles[k])
        self.artists["sum"].set_text(self.sum_texts[k])
        return list(self.artists.values())


def _picture_figure(cls, args, *, cell_in, dpi, compact=False):
    """A Figure whose single full-size Axes holds a picture; 1 cell = ``cell_in`` inches."""
    fig = _new_figure(4, 3, dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    pic = cls(ax, *args, cell_in=cell_in, compact=compact)
    w, h = pic.extent
    fig.set_size_inches(w * cell_in, h * cell_in)
    fig._sliding_picture = pic  # keeps the artists' bookkeeping with the figure
    return fig, pic


def _cell_inches(hp, wp, extra_cols, max_width_in=13.0):
    """Cell size: 0.6 in (readable from the back of a room), smaller only for big inputs."""
    return float(min(0.6, max_width_in / (wp + extra_cols + 2.5), 7.5 / (hp + 4)))


def _step_number(step, n):
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be a whole number from 1 to {n}, got {step!r}")
    if step < 0:
        step = n + 1 + int(step)
    if not 1 <= step <= n:
        raise ValueError(f"step must be from 1 to {n} (there are {n} steps), got {step}")
    return int(step)


def draw_conv_step(x, w, stride=1, padding=0, step=1, *, dpi=80) -> Figure:
    """One step of a 2-D convolution (cross-correlation), with all the numbers.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
        Input.
    w : array_like, shape (F_rows, F_cols)
        Filter (not flipped).
    stride, padding : int or (int, int)
    step : int, default 1
        Which step to show, counted from 1 as the title counts (``-1`` is the last step).
        Step k writes output cell ``divmod(k - 1, out_cols)``.
    dpi : float, default 80

    Returns
    -------
    matplotlib.figure.Figure
        Title ``"Step k of N: window at rows a–b, cols c–d → output[i, j] = v"``; input with
        window, filter, products with their sum written out, output filled up to step k.
    """
    xa, wa = np.asarray(x), np.asarray(w)
    pr, pc = sliding._pair(padding, "padding", 0)
    extra = (wa.shape[1] if wa.ndim == 2 else 1) * 2 + 7
    cell = _cell_inches(xa.shape[0] + 2 * pr if xa.ndim == 2 else 1,
                        xa.shape[-1] + 2 * pc if xa.ndim == 2 else 1, extra)
    fig, pic = _picture_figure(_ConvPicture, (x, w, stride, padding), cell_in=cell, dpi=dpi)
    pic.update(_step_number(step, len(pic.steps)) - 1)
    return fig


def draw_pool_step(x, size, stride=None, padding=0, step=1, *, dpi=80) -> Figure:
    """One step of a 2-D max pool, with all the numbers.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
    size : int or (int, int)
        Pool window ``F``.
    stride : int or (int, int), optional
        Defaults to ``size``.
    padding : int or (int, int), default 0
        Padding counts as −∞ (drawn hatched, showing −∞): it never wins.
    step : int, default 1
        Counted from 1 as the title counts (``-1`` is the last step).
    dpi : float, default 80

    Returns
    -------
    matplotlib.figure.Figure
        Input with window and winner (bold edge and star), the window's values, the output.
    """
    xa = np.asarray(x)
    f = sliding._pair(size, "the pool size", 1)
    pr, pc = sliding._pair(padding, "padding", 0)
    cell = _cell_inches(xa.shape[0] + 2 * pr if xa.ndim == 2 else 1,
                        xa.shape[-1] + 2 * pc if xa.ndim == 2 else 1, f[1] + 6)
    fig, pic = _picture_figure(_PoolPicture, (x, size, stride, padding), cell_in=cell, dpi=dpi)
    pic.update(_step_number(step, len(pic.steps)) - 1)
    return fig


# --------------------------------------------------------------------------- animations
def _animate(fig, pic, interval):
    anim = animation.FuncAnimation(fig, pic.update, frames=len(pic.steps), interval=interval,
                                   blit=False, repeat=True, cache_frame_data=False)
    anim._sliding_picture = pic
    return anim


def animate_conv(x, w, stride=1, padding=0, *, interval=1500, dpi=80) -> animation.FuncAnimation:
    """The whole convolution as an animation: one frame per output cell.

    The figure and its artists are built once; each frame moves the window and rewrites the
    products, the sum, the output and the title. Show it with :func:`play` (no live kernel
    needed) or save it with :func:`save_gif`.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
    w : array_like, shape (F_rows, F_cols)
    stride, padding : int or (int, int)
    interval : int, default 1500
        Milliseconds per frame.
    dpi : float, default 80
        Keep it low: every frame is embedded as a PNG.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        ``out_rows * out_cols`` frames.
    """
    fig = draw_conv_step(x, w, stride, padding, step=1, dpi=dpi)
    return _animate(fig, fig._sliding_picture, interval)


def animate_pool(x, size, stride=None, padding=0, *, interval=1500,
                 dpi=80) -> animation.FuncAnimation:
    """The whole max pool as an animation: one frame per output cell (see :func:`animate_conv`)."""
    fig = draw_pool_step(x, size, stride, padding, step=1, dpi=dpi)
    return _animate(fig, fig._sliding_picture, interval)


_FRAME_RE = re.compile(r'frames\[\d+\] = "data:image')


def embedded_frame_count(html: str) -> int:
    """How many frames a ``to_jshtml()`` string really embeds (matplotlib drops frames past
    ``animation.embed_limit`` with only a log message)."""
    return len(_FRAME_RE.findall(html))


# matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN: offline
# (a feedback file opened on a train, a firewalled lab) the buttons are blank. Plain text
# glyphs instead, from blocks every system font has (arrows, geometric shapes); each button
# keeps its title and aria-label.
_PLAYER_ICONS = {
    "fa-minus": "\u2212", "fa-plus": "+",                           # slower, faster
    "fa-fast-backward": "\u21e4", "fa-step-backward": "\u2190",    # first frame, previous
    "fa-play fa-flip-horizontal": "\u25c0", "fa-pause": "||", "fa-play": "\u25b6",
    "fa-step-forward": "\u2192", "fa-fast-forward": "\u21e5",      # next frame, last
}
_FA_LINK = re.compile(r'<link rel="stylesheet"\s+href="[^"]*font-awesome[^"]*">\s*')
_FA_ICON = re.compile(r'<i class="fa ((?:fa-[a-z-]+ ?)+)"></i>')


def offline_player(html: str) -> str:
    """matplotlib's ``to_jshtml`` player with its buttons drawn without any download.

    An icon this table does not know (a newer matplotlib) is left as it was.
    """
    def glyph(m: re.Match) -> str:
        text = _PLAYER_ICONS.get(m.group(1).strip())
        return m.group(0) if text is None else f'<span aria-hidden="true">{text}</span>'

    return _FA_ICON.sub(glyph, _FA_LINK.sub("", html))


def play(anim: animation.Animation, *, default_mode: str = "loop"):
    """The animation as an inline JavaScript player: ``IPython.display.HTML(anim.to_jshtml())``.

    Plays in JupyterLab without a live kernel, so it survives nbconvert export and nbgrader
    feedback, and needs no download (:func:`offline_player`). Closes the figure first, so no
    static copy appears under the player.

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    default_mode : {"loop", "once", "reflect"}, default "loop"

    Returns
    -------
    IPython.display.HTML

    Raises
    ------
    RuntimeError
        If matplotlib dropped frames because the animation is larger than
        ``animation.embed_limit`` (make it smaller: lower dpi, fewer steps).
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML

    fig = anim._fig
    plt.close(fig)
    html = offline_player(anim.to_jshtml(default_mode=default_mode))
    pic = getattr(anim, "_sliding_picture", None)
    expected = len(pic.steps) if pic is not None else getattr(anim, "_save_count", None) or 0
    got = embedded_frame_count(html)
    if got < expected:
        raise RuntimeError(
            f"only {got} of {expected} frames fit under animation.embed_limit "
            f"({matplotlib.rcParams['animation.embed_limit']} MB); use a lower dpi or a "
            f"smaller example")
    return HTML(html)


def save_gif(anim: animation.Animation, path, *, fps: float | None = None) -> Path:
    """Save the animation as a looping GIF with Pillow's writer (no ffmpeg needed).

    Parameters
    ----------
    anim : matplotlib.animation.Animation
    path : str or Path
    fps : float, optional
        Frames per second; defaults to the animation's interval.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    if fps is None:
        fps = 1000.0 / anim._interval
    anim.save(str(path), writer=animation.PillowWriter(fps=fps), dpi=anim._fig.dpi)
    return path


# --------------------------------------------------------------------------- stepping
def _live_widgets() -> bool:
    """True inside a live Jupyter kernel that has ipywidgets installed."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    if ip is None or not hasattr(ip, "kernel"):
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buf.getvalue()


def _slider(fig, pic):
    import ipywidgets as widgets

    n = len(pic.steps)
    image = widgets.Image(value=_png(fig), format="png")
    slider = widgets.IntSlider(value=1, min=1, max=n, step=1, description="step",
                               continuous_update=True)
    player = widgets.Play(value=1, min=1, max=n, step=1, interval=1500, description="play")
    widgets.jslink((player, "value"), (slider, "value"))

    def show(change):
        pic.update(change["new"] - 1)
        image.value = _png(fig)

    slider.observe(show, names="value")
    box = widgets.VBox([widgets.HBox([player, slider]), image])
    box._sliding_picture = pic
    box._figure = fig
    return box


def _small_multiples(cls, args, max_steps=36, dpi=80):
    """All steps in one Figure, laid out like the output (the step writing output[i, j] sits at
    row i, col j when the output has at most 6 columns)."""
    probe_fig = _new_figure(1, 1, dpi)
    probe = cls(probe_fig.add_axes((0, 0, 1, 1)), *args, cell_in=0.3, compact=True)
    n = len(probe.steps)
    shown = min(n, max_steps)
    ncols = probe.out_c if probe.out_c <= 6 else 6
    nrows = -(-shown // ncols)
    w_cells, h_cells = probe.extent
    cell = float(min(0.32, 15.0 / (ncols * w_cells), 30.0 / (nrows * h_cells)))
    width_in = ncols * w_cells * cell
    head = f"All {n} steps" if shown == n else f"The first {shown} of {n} steps"
    pad_note = "" if not any(probe.pad) else (
        "; hatched padding = " + ("0" if probe.kind == "conv" else MINUS + "∞"))
    head += (" (left to right, top to bottom; orange = the window and the output cell it "
             "writes" + pad_note + ")")
    size = 11.0
    lines = textwrap.wrap(head, max(20, int(width_in * 72 / (0.62 * size))))
    head_in = len(lines) * size * 1.4 / 72 + 0.2
    height_in = nrows * h_cells * cell + head_in
    fig = _new_figure(width_in, height_in, dpi)
    top = 1 - head_in / height_in
    pics = []
    for k in range(shown):
        r, c = divmod(k, ncols)
        ax = fig.add_axes((c / ncols, top - (r + 1) * top / nrows, 1 / ncols, top / nrows))
        pic = cls(ax, *args, cell_in=cell, compact=True)
        pic.update(k)
        for gid, artist in pic.artists.items():
            artist.set_gid(f"step{k + 1}-{gid}")
        pics.append(pic)
    fig.text(0.5, 1 - (head_in / 2) / height_in, "\n".join(lines), ha="center", va="center",
             fontproperties=_font(size, bold=True), linespacing=1.3, gid="grid-title")
    fig._sliding_pictures = pics
    return fig


def step_through_conv(x, w, stride=1, padding=0, *, interactive=None):
    """Step through a convolution: a slider in a live kernel, else a grid of all steps.

    Parameters
    ----------
    x, w, stride, padding
        As in :func:`draw_conv_step`.
    interactive : bool, optional
        None (default): a slider when running in a live Jupyter kernel with ipywidgets, else the
        static grid. True/False forces one or the other.

    Returns
    -------
    ipywidgets.VBox or matplotlib.figure.Figure
        The slider widget (with a play button) showing the full step picture, or one Figure with
        a small picture per step (small multiples), laid out like the output.

    Notes
    -----
    Widgets need a live kernel: in exported notebooks and nbgrader feedback they do not render.
    Use :func:`play` for output that must survive export.
    """
    if interactive is None:
        interactive = _live_widgets()
    if interactive:
        fig = draw_conv_step(x, w, stride, padding, step=1)
        return _slider(fig, fig._sliding_picture)
    return _small_multiples(_ConvPicture, (x, w, stride, padding))


def step_through_pool(x, size, stride=None, padding=0, *, interactive=None):
    """Step through a max pool: a slider in a live kernel, else a grid of all steps.

    See :func:`step_through_conv`; arguments as in :func:`draw_pool_step`.
    """
    if interactive is None:
        interactive = _live_widgets()
    if interactive:
        fig = draw_pool_step(x, size, stride, padding, step=1)
        return _slider(fig, fig._sliding_picture)
    return _small_multiples(_PoolPicture, (x, size, stride, padding))


# --------------------------------------------------------------------------- tiling view
def _axis_words(t: sliding.Tiling):
    """Formula line(s) for the tiling title."""
    def one(a):
        n, f, s, p = t.n[a], t.F[a], t.S[a], t.P[a]
        exact = (n - f + 2 * p) / s + 1
        return f"({n} − {f} + 2·{p})/{s} + 1 = {fmt(exact)}"

    if t.n[0] == t.n[1] and t.F[0] == t.F[1] and t.S[0] == t.S[1] and t.P[0] == t.P[1]:
        return one(0)
    return f"rows {one(0)}; cols {one(1)}"


def _pair_txt(p):
    return f"{p[0]}" if p[0] == p[1] else f"({p[0]}, {p[1]})"


def draw_tiling(n, F, S=1, P=0, *, dpi=80) -> Figure:
    """How the windows of a sliding filter tile the input, without numbers (for big inputs).

    Draws the padded input (padding hatched), one dot per window position (so the dots form the
    output grid), the first window, the next one a stride on, and the last one. When S does not
    divide ``n - F + 2P`` the strip no window covers is hatched and the title says the
    configuration is invalid; rows/cols skipped between windows (S > F) are hatched too.

    Parameters
    ----------
    n : int or (int, int)
        Input size (rows, cols); an int means square (e.g. 32, or 227 for AlexNet).
    F : int or (int, int)
        Filter size.
    S : int or (int, int), default 1
        Stride.
    P : int or (int, int), default 0
        Padding.
    dpi : float, default 80

    Returns
    -------
    matplotlib.figure.Figure
        gids: ``"input"``, ``"padding"``, ``"grid"``, ``"window-centres"``, ``"window-first"``,
        ``"window-next"``, ``"window-last"``, ``"uncovered-rows"``, ``"uncovered-cols"``,
        ``"skipped-rows-<r>"``, ``"skipped-cols-<c>"``, ``"title"``, ``"legend"``.

    Raises
    ------
    ValueError
        As :func:`helpers.sliding.tiling` (sizes below 1, negative padding, F > n + 2P).
    """
    t = sliding.tiling(n, F, S, P)
    hp, wp = t.padded
    side_in = 6.0
    cell = side_in / max(hp, wp)
    cell_pt = cell * 72
    title_in, legend_in, margin = 0.9, 0.75, 0.2
    fig = _new_figure(side_in + 2 * margin, side_in * hp / max(hp, wp) + title_in + legend_in
                      + 2 * margin, dpi)
    W, H = fig.get_size_inches()
    grid_h = side_in * hp / max(hp, wp)
    ax = fig.add_axes((margin / W, (legend_in + margin) / H, side_in * wp / max(hp, wp) / W,
                       grid_h / H))
    ax.set_xlim(0, wp)
    ax.set_ylim(hp, 0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    pr, pc = t.P
    nr, nc = t.n
    if pr or pc:
        ax.add_patch(Rectangle((0, 0), wp, hp, facecolor="white", edgecolor=_GRID, hatch="//",
                               hatchcolor=_PAD_HATCH, linewidth=1.0, zorder=1, gid="padding"))
    ax.add_patch(Rectangle((pc, pr), nc, nr, facecolor="white", edgecolor=_INK, linewidth=1.5,
                           zorder=2, gid="input"))
    if max(hp, wp) <= 64:
        segs = [[(0, r), (wp, r)] for r in range(1, hp)] + [[(c, 0), (c, hp)] for c in range(1, wp)]
        ax.add_collection(LineCollection(segs, colors="#BBBBBB", linewidths=0.5, zorder=3,
                                         gid="grid"))
    fr, fc = t.F
    # the strips no window covers: at the end (S does not divide) and between windows (S > F)
    strip = dict(facecolor=matplotlib.colors.to_rgba(COLORS["vermillion"], 0.25),
                 edgecolor=COLORS["vermillion"], hatch="xx", hatchcolor=COLORS["vermillion"],
                 linewidth=1.5, zorder=4)
    if len(t.uncovered_rows):
        r0 = t.uncovered_rows.start
        ax.add_patch(Rectangle((0, r0), wp, hp - r0, gid="uncovered-rows", **strip))
    if len(t.uncovered_cols):
        c0 = t.uncovered_cols.start
        ax.add_patch(Rectangle((c0, 0), wp - c0, hp, gid="uncovered-cols", **strip))
    skipped = dict(strip, facecolor=matplotlib.colors.to_rgba(COLORS["vermillion"], 0.12),
                   hatch="..", linewidth=0.8)
    end_r = t.uncovered_rows.start if len(t.uncovered_rows) else hp
    end_c = t.uncovered_cols.start if len(t.uncovered_cols) else wp
    skipped_r = [r for r in range(end_r) if not t.covered_rows[r]]
    skipped_c = [c for c in range(end_c) if not t.covered_cols[c]]
    for r in skipped_r:
        ax.add_patch(Rectangle((0, r), wp, 1, gid=f"skipped-rows-{r}", **skipped))
    for c in skipped_c:
        ax.add_patch(Rectangle((c, 0), 1, hp, gid=f"skipped-cols-{c}", **skipped))
    # one dot per window position: the dots are the output grid
    rs = np.asarray(t.row_starts) + fr / 2
    cs = np.asarray(t.col_starts) + fc / 2
    yy, xx = np.meshgrid(rs, cs, indexing="ij")
    dot = max(1.0, min(0.35 * min(t.S) * cell_pt, 0.3 * cell_pt * max(1, min(t.S)), 7.0))
    ax.add_line(Line2D(xx.ravel(), yy.ravel(), marker="o", linestyle="none",
                       markersize=dot, color=COLORS["blue"], markeredgewidth=0, zorder=6,
                       gid="window-centres"))
    lw = max(2.0, min(4.0, 0.3 * cell_pt))
    win = dict(fill=False, linewidth=lw, zorder=7, joinstyle="miter")
    ax.add_patch(Rectangle((0, 0), fc, fr, edgecolor=COLORS["orange"], gid="window-first", **win))
    if len(t.col_starts) > 1:
        ax.add_patch(Rectangle((t.col_starts[1], 0), fc, fr, edgecolor=COLORS["purple"],
                               linestyle=(0, (2, 1)), gid="window-next", **win))
    ax.add_patch(Rectangle((t.col_starts[-1], t.row_starts[-1]), fc, fr,
                           edgecolor=COLORS["green"], gid="window-last", **win))
    # title: what it is, the formula, the verdict
    head = (f"{nr}×{nc} input, F = {_pair_txt(t.F)}, S = {_pair_txt(t.S)}, "
            f"P = {_pair_txt(t.P)}")
    formula = _axis_words(t)
    if t.valid:
        lines = [head, f"{formula} → valid: {t.out_shape[0]}×{t.out_shape[1]} output",
                 "one dot per window position = one output cell"]
    else:
        parts = []
        for a, word in ((0, "row"), (1, "column")):
            k = t.remainder[a]
            if k:
                parts.append(f"the last {word}" if k == 1 else f"the last {k} {word}s")
        only_pad = (all(r >= pr + nr for r in t.uncovered_rows)
                    and all(c >= pc + nc for c in t.uncovered_cols))
        lines = [head, f"{formula}: not a whole number → INVALID",
                 f"the stride does not fit: {' and '.join(parts)} (cross-hatched) are never "
                 "covered" + (", only padding there" if only_pad else "")]
    if skipped_r or skipped_c:
        lines[-1] += "; S > F skips cells between windows"
    wrapped = [w for line in lines for w in textwrap.wrap(line, 64)]
    title = "\n".join(wrapped)
    size = _fit_size(title, 13, (W - 0.3) * 72)
    extra = len(wrapped) * size * 1.45 / 72 + 0.3 - title_in
    if extra > 0:  # make room above the grid for a longer title
        fig.set_size_inches(W, H + extra)
        _, H = W, H + extra
        ax.set_position((margin / W, (legend_in + margin) / H, side_in * wp / max(hp, wp) / W,
                         grid_h / H))
        title_in += extra
    fig.text(0.5, 1 - (margin + title_in / 2) / H, title, ha="center", va="center",
             fontproperties=_font(size, bold=True), linespacing=1.4, gid="title")
    # legend: every colour also has a shape or line style
    handles = [
        Rectangle((0, 0), 1, 1, fill=False, edgecolor=COLORS["orange"], linewidth=3,
                  label="first window"),
        Line2D([], [], color=COLORS["blue"], marker="o", linestyle="none", markersize=6,
               label=f"window centres ({t.out_shape[0]}×{t.out_shape[1]})"),
        Rectangle((0, 0), 1, 1, fill=False, edgecolor=COLORS["green"], linewidth=3,
                  label="last window"),
    ]
    if len(t.col_starts) > 1:
        handles.insert(1, Rectangle((0, 0), 1, 1, fill=False, edgecolor=COLORS["purple"],
                                    linewidth=3, linestyle=(0, (2, 1)),
                                    label=f"next window ({_pair_txt(t.S)} on)"))
    if pr or pc:
        handles.append(Rectangle((0, 0), 1, 1, facecolor="white", edgecolor=_GRID, hatch="//",
                                 hatchcolor=_PAD_HATCH, label=f"padding (P = {_pair_txt(t.P)})"))
    if not t.valid:
        handles.append(Rectangle((0, 0), 1, 1, label="never covered", **{
            k: v for k, v in strip.items() if k != "zorder"}))
    if skipped_r or skipped_c:
        handles.append(Rectangle((0, 0), 1, 1, label="skipped (S > F)", **{
            k: v for k, v in skipped.items() if k != "zorder"}))
    leg = fig.legend(handles=handles, loc="lower center", ncols=min(3, len(handles)),
                     prop=_font(10), frameon=False, bbox_to_anchor=(0.5, 0.2 / H))
    leg.set_gid("legend")
    fig._tiling = t
    return fig
