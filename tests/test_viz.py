"""helpers.viz: the sliding-filter pictures.

Structural tests find artists by gid and compare what is drawn with numbers computed here,
independently of helpers.sliding (scipy.signal.correlate2d, plain numpy slicing and loops).
A few pixel baselines (pytest-mpl, tests/baseline/) pin the look of the key pictures;
regenerate them with
    .venv/bin/python -m pytest tests/test_viz.py -k image --mpl-generate-path=tests/baseline
"""
import ast
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import animation
from matplotlib.colors import to_rgba
from matplotlib.testing.compare import compare_images
from matplotlib.text import Text
from PIL import Image
from scipy.signal import correlate2d

from helpers import viz

ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).parent / "baseline"
I = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 2], [0, -2, 4, 0]])
F = np.array([[1, -1], [0, 2]])
DEMO_X = (np.arange(25).reshape(5, 5) % 7) - 3          # the 5×5-ish demo
DEMO_W = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
MPL_FONTS = Path(matplotlib.get_data_path(), "fonts", "ttf").resolve()


# --------------------------------------------------------------------------- helpers
def by_gid(fig):
    return {a.get_gid(): a for a in fig.findobj(lambda a: a.get_gid() is not None)}


def number(text):
    """A drawn number back to a float: '−1' -> -1.0, '−∞' -> -inf."""
    return float(text.replace("\u2212", "-").replace("∞", "inf"))


def visible_outputs(g):
    return {k: number(a.get_text()) for k, a in g.items()
            if k.startswith("output-value-") and a.get_visible()}


def conv_oracle(x, w, s, p):
    return correlate2d(np.pad(x, p), w, mode="valid")[::s, ::s]


class RecordingWriter(animation.AbstractMovieWriter):
    """A movie writer that renders nothing and records, per frame, what the artists show."""

    def __init__(self, record):
        super().__init__(fps=1)
        self.record = record
        self.frames = []

    def setup(self, fig, outfile, dpi=None):
        self.fig, self.dpi = fig, dpi or fig.dpi

    def grab_frame(self, **kwargs):
        self.frames.append(self.record(by_gid(self.fig)))

    def finish(self):
        pass


def run_frames(anim, record):
    writer = RecordingWriter(record)
    anim.save("unused.gif", writer=writer)
    return writer.frames


def conv_frame(g):
    products = {k: number(a.get_text()) for k, a in g.items() if k.startswith("product-")
                and not k.startswith(("product-expr", "product-cell"))}
    return dict(window=tuple(g["window"].get_xy()), size=(g["window"].get_height(),
                g["window"].get_width()), products=products, sum=g["sum"].get_text(),
                outputs=visible_outputs(g), title=g["title"].get_text(),
                current=tuple(g["output-current"].get_xy()),
                out_origin=tuple(g["output-cell-0-0"].get_xy()))


def pool_frame(g):
    values = {k: number(a.get_text()) for k, a in g.items() if k.startswith("window-value-")}
    return dict(window=tuple(g["window"].get_xy()), values=values,
                winner=tuple(g["winner"].get_xy()), winner_visible=g["winner"].get_visible(),
                marker=tuple(np.ravel(g["winner-marker"].get_data())),
                outputs=visible_outputs(g), title=g["title"].get_text())


# --------------------------------------------------------------------------- animation frames
@pytest.mark.parametrize("s, p", [(1, 0), (2, 1)])
def test_conv_animation_has_one_frame_per_output_cell(s, p):
    frames = run_frames(viz.animate_conv(I, F, s, p), conv_frame)
    assert len(frames) == conv_oracle(I, F, s, p).size == 9


def test_pool_animation_has_one_frame_per_output_cell():
    assert len(run_frames(viz.animate_pool(I, 3, 3, 1), pool_frame)) == 4


@pytest.mark.parametrize("s, p", [(1, 0), (2, 1), (1, 1)])
def test_conv_window_sits_where_stride_and_padding_put_it(s, p):
    frames = run_frames(viz.animate_conv(I, F, s, p), conv_frame)
    out_c = (4 - 2 + 2 * p) // s + 1
    for k, fr in enumerate(frames):
        i, j = divmod(k, out_c)
        # cell (r, c) of the padded input is the unit square with top-left (c, r)
        assert fr["window"] == (j * s, i * s)
        assert fr["size"] == (2, 2)


def test_window_outline_lines_up_with_the_drawn_input_cells():
    fig = viz.draw_conv_step(I, F, 2, 1, step=5)  # output[1, 1]: padded rows/cols 2–3
    g = by_gid(fig)
    assert tuple(g["window"].get_xy()) == tuple(g["input-cell-2-2"].get_xy())


def test_conv_numbers_drawn_are_the_true_products_and_sums():
    s, p = 2, 1
    xp = np.pad(I, p)
    expected = conv_oracle(I, F, s, p)
    frames = run_frames(viz.animate_conv(I, F, s, p), conv_frame)
    for k, fr in enumerate(frames):
        i, j = divmod(k, 3)
        window = xp[i * s:i * s + 2, j * s:j * s + 2]
        prods = window * F
        for (a, b), v in np.ndenumerate(prods):
            assert fr["products"][f"product-{a}-{b}"] == v
        assert number(fr["sum"].rsplit("= ", 1)[1]) == expected[i, j] == prods.sum()
        assert fr["title"].endswith(f"output[{i}, {j}] = " + viz.fmt(expected[i, j]))


def test_conv_sum_writes_out_the_arithmetic():
    g = by_gid(viz.draw_conv_step(I, F, 1, 0, step=1))
    assert g["sum"].get_text() == "1×1 + 2×(\u22121) + 4×0 + 3×2 = 1 \u2212 2 + 0 + 6 = 5"


def test_conv_output_fills_step_by_step_with_the_true_values():
    expected = conv_oracle(I, F, 1, 0)
    frames = run_frames(viz.animate_conv(I, F, 1, 0), conv_frame)
    for k, fr in enumerate(frames):
        assert len(fr["outputs"]) == k + 1
        for key, v in fr["outputs"].items():
            r, c = map(int, key.split("-")[-2:])
            assert v == expected[r, c]
        i, j = divmod(k, 3)
        ox, oy = fr["out_origin"]
        assert fr["current"] == (ox + j, oy + i)


def test_conv_on_a_bigger_demo_draws_true_numbers():
    expected = conv_oracle(DEMO_X, DEMO_W, 1, 1)
    g = by_gid(viz.draw_conv_step(DEMO_X, DEMO_W, 1, 1, step=25))
    got = visible_outputs(g)
    assert len(got) == 25
    for key, v in got.items():
        r, c = map(int, key.split("-")[-2:])
        assert v == expected[r, c]


def test_pool_winner_is_never_a_padding_cell_and_holds_the_max():
    p, s, f = 1, 3, 3
    frames = run_frames(viz.animate_pool(I, f, s, p), pool_frame)
    xp = np.pad(I.astype(float), p, constant_values=-np.inf)
    for k, fr in enumerate(frames):
        i, j = divmod(k, 2)
        window = xp[i * s:i * s + f, j * s:j * s + f]
        assert fr["window"] == (j * s, i * s)
        c, r = map(int, fr["winner"])
        assert p <= r < p + 4 and p <= c < p + 4, "winner drawn on a padding cell"
        assert I[r - p, c - p] == window.max()
        assert fr["winner_visible"]
        # the star sits inside the winner's cell (its top-right corner, clear of the number)
        assert c < fr["marker"][0] < c + 1 and r < fr["marker"][1] < r + 1
        for (a, b), v in np.ndenumerate(window):
            assert fr["values"][f"window-value-{a}-{b}"] == v


def test_pool_output_values_are_the_window_maxima():
    frames = run_frames(viz.animate_pool(I, 3, 3, 1), pool_frame)
    assert frames[-1]["outputs"] == {"output-value-0-0": 4, "output-value-0-1": 4,
                                     "output-value-1-0": 0, "output-value-1-1": 4}


# --------------------------------------------------------------------------- padding, colour, text
def test_conv_padding_cells_are_hatched_and_show_zero():
    g = by_gid(viz.draw_conv_step(I, F, 2, 1))
    pads = [k for k in g if k.startswith("padding-")]
    assert len(pads) == 6 * 6 - 4 * 4
    for k in pads:
        assert g[k].get_hatch()
        r, c = k.split("-")[1:]
        assert g[f"input-value-{r}-{c}"].get_text() == "0"
    assert not any(g[k].get_hatch() for k in g if k.startswith("input-cell-"))


def test_pool_padding_cells_are_hatched_and_show_minus_infinity():
    g = by_gid(viz.draw_pool_step(I, 3, 3, 1))
    pads = [k for k in g if k.startswith("padding-")]
    assert len(pads) == 20
    for k in pads:
        r, c = k.split("-")[1:]
        assert g[k].get_hatch() and g[f"input-value-{r}-{c}"].get_text() == "\u2212∞"


def _extent(fig, artist):
    fig.canvas.draw()
    return artist.get_window_extent(fig.canvas.get_renderer())


@pytest.mark.parametrize("draw", [lambda: viz.draw_conv_step(I, F, 2, 1),
                                  lambda: viz.draw_pool_step(I, 3, 3, 1)],
                         ids=["conv zero", "pool minus infinity"])
def test_padding_values_sit_on_an_opaque_box_the_hatch_does_not_cross(draw):
    fig = draw()
    g = by_gid(fig)
    for k in (k for k in g if k.startswith("padding-")):
        text = g["input-value-" + k.removeprefix("padding-")]
        box = text.get_bbox_patch()
        assert box is not None, f"{k}: the hatch lines run through its value"
        assert box.get_facecolor()[:3] == (1.0, 1.0, 1.0) and box.get_alpha() >= 0.8
        outer, inner = _extent(fig, box), _extent(fig, text)
        assert outer.x0 <= inner.x0 and outer.x1 >= inner.x1
        assert outer.y0 <= inner.y0 and outer.y1 >= inner.y1


def test_pool_window_values_in_padding_get_the_same_box_while_sliding():
    frames = run_frames(viz.animate_pool(I, 3, 3, 1), lambda g: {
        k: (a.get_text(), a.get_bbox_patch() is not None)
        for k, a in g.items() if k.startswith("window-value-")})
    boxed = {text for frame in frames for text, has_box in frame.values() if has_box}
    unboxed = {text for frame in frames for text, has_box in frame.values() if not has_box}
    assert boxed == {"\u2212∞"} and "\u2212∞" not in unboxed


def _marker_extent(fig, line):
    """Display-space box of a one-point marker line (its marker size is in points)."""
    fig.canvas.draw()
    cx, cy = line.get_transform().transform(np.ravel(line.get_data()))
    half = line.get_markersize() * fig.dpi / 72 / 2
    return matplotlib.transforms.Bbox([[cx - half, cy - half], [cx + half, cy + half]])


@pytest.mark.parametrize("x", [I, -37 * I], ids=["one digit", "wide negative numbers"])
def test_pool_winner_star_never_covers_the_winning_number(x):
    steps = len(viz.draw_pool_step(x, 3, 3, 1)._sliding_picture.steps)
    for k in range(steps):
        fig = viz.draw_pool_step(x, 3, 3, 1, step=k + 1)
        g, st = by_gid(fig), fig._sliding_picture.steps[k]
        r, c = st.winner_padded
        pairs = [(g["winner-marker"], g[f"input-value-{r}-{c}"])]
        i, j = st.winner
        pairs.append((g["winner-window-marker"], g[f"window-value-{i}-{j}"]))
        for star, digits in pairs:
            assert not _marker_extent(fig, star).overlaps(_extent(fig, digits)), (
                f"step {k + 1}: the star covers {digits.get_text()!r}")


def test_window_is_a_thick_okabe_ito_outline_not_just_colour():
    g = by_gid(viz.draw_conv_step(I, F))
    win = g["window"]
    assert not win.get_fill() and win.get_linewidth() >= 3
    assert win.get_edgecolor() == to_rgba("#E69F00")


def test_pool_winner_has_bold_edge_and_star_marker():
    g = by_gid(viz.draw_pool_step(I, 3, 3, 1))
    assert g["winner"].get_linewidth() >= 3
    assert g["winner"].get_edgecolor() == to_rgba("#D55E00")
    assert g["winner-marker"].get_marker() == "*"
    assert g["winner-window-marker"].get_marker() == "*"


def test_palette_is_okabe_ito():
    assert {v.upper() for v in viz.COLORS.values()} == OKABE_ITO


def test_title_states_the_step_in_words():
    g = by_gid(viz.draw_conv_step(I, F, 1, 0, step=3))
    assert g["title"].get_text() == "Step 3 of 9: window at rows 0–1, cols 2–3 → output[0, 2] = 1"
    g = by_gid(viz.draw_pool_step(I, 3, 3, 1, step=4))
    assert g["title"].get_text() == "Step 4 of 4: window at rows 3–5, cols 3–5 → output[1, 1] = 4"


def test_subtitle_shows_the_output_size_formula():
    g = by_gid(viz.draw_conv_step(I, F, 2, 1))
    assert "(4 − 2 + 2·1)/2 + 1 = 3" in g["subtitle"].get_text()


def test_step_is_counted_from_one_and_checked():
    g = by_gid(viz.draw_conv_step(I, F, step=-1))
    assert g["title"].get_text().startswith("Step 9 of 9")
    for bad in (0, 10, 2.5):
        with pytest.raises(ValueError, match="step"):
            viz.draw_conv_step(I, F, step=bad)


def test_invalid_configuration_raises_before_drawing():
    with pytest.raises(ValueError, match="does not divide"):
        viz.draw_conv_step(np.zeros((5, 5)), F, stride=2)
    with pytest.raises(ValueError, match="does not divide"):
        viz.animate_pool(I, 3, stride=2)


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_text()]


@pytest.mark.parametrize("make", [
    lambda: viz.draw_conv_step(I, F, 2, 1),
    lambda: viz.draw_pool_step(I, 3, 3, 1),
    lambda: viz.draw_tiling(32, 5, 2, 3),
    lambda: viz.step_through_conv(I, F, 2, 1, interactive=False),
], ids=["conv", "pool", "tiling", "small-multiples"])
def test_all_text_uses_matplotlibs_bundled_dejavu_sans(make):
    texts = _texts(make())
    assert texts
    for t in texts:
        path = Path(t.get_fontproperties().get_file()).resolve()
        assert path.parent == MPL_FONTS and path.name.startswith("DejaVuSans"), t.get_text()


def test_numbers_are_readable_at_projector_size():
    g = by_gid(viz.draw_conv_step(I, F, 2, 1))
    assert g["input-value-1-1"].get_fontsize() >= 14
    assert g["title"].get_fontsize() >= 14


# --------------------------------------------------------------------------- figures and pyplot
def test_pictures_are_not_left_open_in_pyplot():
    before = plt.get_fignums()
    viz.draw_conv_step(I, F)
    viz.draw_tiling(32, 5)
    assert plt.get_fignums() == before


def test_everything_renders_headless_with_agg():
    assert matplotlib.get_backend().lower() == "agg"
    fig = viz.draw_pool_step(I, 3, 3, 1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert Image.open(buf).size[0] > 400


def test_play_and_gif_run_headless_in_a_fresh_process_without_stderr(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND")}
    code = ("from helpers import viz\n"
            "I = [[1,2,3,4],[4,3,2,1],[-1,0,1,2],[0,-2,4,0]]\n"
            "h = viz.play(viz.animate_conv(I, [[1,-1],[0,2]], 2, 1))\n"
            f"viz.save_gif(viz.animate_pool(I, 3, 3, 1), {str(tmp_path / 'p.gif')!r})\n"
            "viz.step_through_pool(I, 3, 3, 1)\n"
            "print(viz.embedded_frame_count(h.data))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "9"
    assert res.stderr == ""


def test_pictures_show_themselves_in_jupyter_as_crisp_png():
    fig = viz.draw_conv_step(I, F, 2, 1)
    data, meta = fig._repr_png_()
    assert data.startswith(b"\x89PNG")
    w, h = fig.get_size_inches() * fig.dpi
    assert meta == {"width": round(w), "height": round(h)}
    assert Image.open(io.BytesIO(data)).size[0] == pytest.approx(2 * w, abs=2)  # 2× for HiDPI


def test_in_a_real_kernel_each_call_shows_exactly_what_the_notebook_needs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "from helpers import viz\nI = [[1,2,3,4],[4,3,2,1],[-1,0,1,2],[0,-2,4,0]]\n"
        "F = [[1,-1],[0,2]]",
        "viz.draw_conv_step(I, F, stride=2, padding=1, step=5)",
        "fig = viz.draw_pool_step(I, 3, stride=3, padding=1)",
        "viz.play(viz.animate_pool(I, 3, stride=3, padding=1))",
        "viz.step_through_conv(I, F, 2, 1)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    kinds = [[(o.output_type, sorted(o.get("data", {}))) for o in c.outputs] for c in nb.cells]
    assert kinds[0] == [] and kinds[2] == []  # assigning a figure shows nothing
    assert kinds[1] == [("execute_result", ["image/png", "text/plain"])]  # once, no duplicate
    assert kinds[3] == [("execute_result", ["text/html", "text/plain"])]
    assert viz.embedded_frame_count(nb.cells[3].outputs[0]["data"]["text/html"]) == 4
    assert kinds[4] == [("execute_result", ["application/vnd.jupyter.widget-view+json",
                                            "text/plain"])]


# --------------------------------------------------------------------------- jshtml and GIF
@pytest.mark.parametrize("make, n", [
    (lambda: viz.animate_conv(I, F, stride=2, padding=1), 9),        # problem 2(b)
    (lambda: viz.animate_conv(DEMO_X, DEMO_W, 1, 1), 25),             # 5×5 demo, 3×3 filter
], ids=["2b", "demo5x5"])
def test_jshtml_embeds_every_frame_far_below_the_embed_limit(make, n):
    html = viz.play(make()).data
    limit = matplotlib.rcParams["animation.embed_limit"] * 1024 * 1024
    assert viz.embedded_frame_count(html) == n
    assert len(html.encode()) < limit / 4


def test_the_player_downloads_nothing():
    """A feedback page is opened anywhere: the player loads no stylesheet or script from the web."""
    html = viz.play(viz.animate_pool(I, 3, stride=3, padding=1)).data
    assert not re.search(r"""(href|src)=["']?(https?:)?//""", html)


def test_every_player_button_shows_a_glyph():
    html = viz.play(viz.animate_conv(I, F, 2, 1)).data
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", html, re.DOTALL)
    assert len(buttons) == 9
    for inner in buttons:
        visible = re.sub(r"<[^>]+>", "", inner).strip()
        assert visible and "fa-" not in inner, inner


def test_an_icon_the_player_table_does_not_know_is_left_as_it_was():
    html = '<button title="Rewind"><i class="fa fa-rewind"></i></button>'
    assert viz.offline_player(html) == html


def test_play_closes_a_pyplot_figure_so_no_static_copy_appears():
    fig, ax = plt.subplots()
    line, = ax.plot([0, 1], [0, 1])
    anim = animation.FuncAnimation(fig, lambda k: line.set_ydata([k, 0]), frames=2)
    viz.play(anim)
    assert not plt.fignum_exists(fig.number)


def test_play_refuses_to_silently_drop_frames(monkeypatch):
    monkeypatch.setitem(matplotlib.rcParams, "animation.embed_limit", 0.05)  # 50 kB
    with pytest.raises(RuntimeError, match="frames fit"):
        viz.play(viz.animate_conv(I, F, 2, 1))


def test_gif_saves_with_one_frame_per_output_cell(tmp_path):
    path = viz.save_gif(viz.animate_conv(I, F, 2, 1), tmp_path / "conv.gif")
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 9


# --------------------------------------------------------------------------- stepping
def test_step_through_outside_a_kernel_falls_back_to_small_multiples():
    fig = viz.step_through_conv(I, F, 2, 1)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 9
    g = by_gid(fig)
    for k in range(1, 10):
        assert g[f"step{k}-title"].get_text().startswith(f"Step {k}:")
    # each small picture shows the output filled up to its own step
    assert len([a for key, a in g.items() if key.startswith("step4-output-value-")
                and a.get_visible()]) == 4


def test_step_through_pool_small_multiples_mark_winners_inside_the_input():
    g = by_gid(viz.step_through_pool(I, 3, 3, 1, interactive=False))
    for k in range(1, 5):
        c, r = map(int, g[f"step{k}-winner"].get_xy())
        assert 1 <= r <= 4 and 1 <= c <= 4


def test_step_through_with_widgets_is_a_slider_that_redraws():
    box = viz.step_through_conv(I, F, 2, 1, interactive=True)
    controls, image = box.children
    player, slider = controls.children
    assert (slider.min, slider.max, player.max) == (1, 9, 9)
    first = image.value
    slider.value = 5
    assert image.value != first
    assert box._sliding_picture.artists["title"].get_text().startswith("Step 5 of 9")


# --------------------------------------------------------------------------- tiling view
def test_tiling_invalid_stride_hatches_the_uncovered_strip_and_says_so():
    fig = viz.draw_tiling(32, 5, 2, 0)
    g = by_gid(fig)
    assert tuple(g["uncovered-rows"].get_xy()) == (0, 31) and g["uncovered-rows"].get_height() == 1
    assert tuple(g["uncovered-cols"].get_xy()) == (31, 0) and g["uncovered-cols"].get_width() == 1
    assert g["uncovered-rows"].get_hatch() and g["uncovered-cols"].get_hatch()
    title = g["title"].get_text()
    assert "14.5" in title and "INVALID" in title and "never covered" in title


def test_tiling_valid_stride_has_no_uncovered_strip():
    g = by_gid(viz.draw_tiling(32, 5, 3, 0))
    assert "uncovered-rows" not in g and "uncovered-cols" not in g
    assert "valid: 10×10 output" in g["title"].get_text().replace("\n", " ")


def test_tiling_padding_is_hatched_and_strip_in_padding_is_named():
    g = by_gid(viz.draw_tiling(32, 5, 2, 3))
    assert g["padding"].get_hatch()
    assert tuple(g["input"].get_xy()) == (3, 3)
    assert tuple(g["uncovered-rows"].get_xy()) == (0, 37)
    assert "only padding there" in g["title"].get_text().replace("\n", " ")


def test_tiling_alexnet_has_one_dot_per_output_cell():
    g = by_gid(viz.draw_tiling(227, 11, 4, 0))
    xs, ys = g["window-centres"].get_data()
    assert len(xs) == 55 * 55
    assert sorted(set(np.round(xs, 3)))[:2] == [5.5, 9.5]  # centres one stride apart
    assert tuple(g["window-last"].get_xy()) == (216, 216)
    assert "55×55" in g["title"].get_text()


def test_tiling_stride_larger_than_filter_hatches_skipped_rows():
    g = by_gid(viz.draw_tiling(7, 2, 3, 0))
    assert {"skipped-rows-2", "skipped-cols-2"} <= set(g)
    assert "skipped-rows-0" not in g


# --------------------------------------------------------------------------- student safety
def test_viz_imports_nothing_grading_only():
    code = ("import sys, helpers.viz\n"
            "print(sorted(m for m in sys.modules if m.startswith('helpers')))\n"
            "print(any(m.split('.')[0] in ('IPython', 'ipywidgets') for m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    mods, lazy = res.stdout.split("\n")[:2]
    assert mods == "['helpers', 'helpers.sliding', 'helpers.viz']"
    assert lazy == "False"  # IPython and ipywidgets only when asked for


@pytest.mark.parametrize("module", ["viz.py", "sliding.py"])
def test_student_safe_modules_import_only_allowed_packages(module):
    allowed = {"numpy", "matplotlib", "IPython", "ipywidgets", "io", "re", "textwrap",
               "pathlib", "numbers", "dataclasses", "__future__"}
    tree = ast.parse((ROOT / "helpers" / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: only the sibling student-safe module
                assert [a.name for a in node.names] == ["sliding"]
                continue
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in allowed, name
            assert not name.startswith(("helpers.reference", "helpers.checks", "helpers.mistakes"))


# --------------------------------------------------------------------------- pixel baselines
MPL = dict(deterministic=True, style="default", savefig_kwargs={"metadata": {"Software": None}})


@pytest.mark.mpl_image_compare(filename="conv_step_padding.png", **MPL)
def test_image_conv_step_with_padding():
    return viz.draw_conv_step(I, F, stride=2, padding=1, step=5)


@pytest.mark.mpl_image_compare(filename="pool_step_padding.png", **MPL)
def test_image_pool_step_with_padding():
    return viz.draw_pool_step(I, 3, stride=3, padding=1, step=2)


@pytest.mark.mpl_image_compare(filename="tiling_uncovered_strip.png", **MPL)
def test_image_tiling_with_uncovered_strip():
    return viz.draw_tiling(32, 5, 2, 0)


def test_a_changed_picture_fails_its_baseline(tmp_path):
    """The baselines can fail: step 6 is not step 5, and the comparison says so."""
    baseline = BASELINE / "conv_step_padding.png"
    assert baseline.exists(), "generate the baselines (see the module docstring)"
    out = tmp_path / "changed.png"
    viz.draw_conv_step(I, F, stride=2, padding=1, step=6).savefig(
        out, metadata={"Software": None})
    assert compare_images(str(baseline), str(out), tol=2) is not None
    same = tmp_path / "same.png"
    viz.draw_conv_step(I, F, stride=2, padding=1, step=5).savefig(
        same, metadata={"Software": None})
    assert compare_images(str(baseline), str(same), tol=2) is None
