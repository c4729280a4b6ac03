"""helpers.sliding: the maths of one sliding-filter step, checked against independent oracles.

The oracles never call helpers.sliding: scipy.signal.correlate2d on an np.pad-ded input for
convolution, and plain Python loops over the *unpadded* input for max pooling.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d

from helpers import sliding

# Reproducible property tests: same examples on every run and in CI.
PROPS = settings(derandomize=True, max_examples=80, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

I = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 2], [0, -2, 4, 0]])
F = np.array([[1, -1], [0, 2]])


# --------------------------------------------------------------------------- oracles
def conv_oracle(x, w, stride, padding):
    (sr, sc), (pr, pc) = stride, padding
    xp = np.pad(np.asarray(x, dtype=float), ((pr, pr), (pc, pc)))
    return correlate2d(xp, np.asarray(w, dtype=float), mode="valid")[::sr, ::sc]


def pool_oracle(x, size, stride, padding):
    """Max over the input cells of each window; padding cells are simply not candidates."""
    x = np.asarray(x, dtype=float)
    (fr, fc), (sr, sc), (pr, pc) = size, stride, padding
    n, m = x.shape
    out_r, out_c = (n - fr + 2 * pr) // sr + 1, (m - fc + 2 * pc) // sc + 1
    out = np.full((out_r, out_c), -np.inf)
    for i in range(out_r):
        for j in range(out_c):
            for r in range(i * sr - pr, i * sr - pr + fr):
                for c in range(j * sc - pc, j * sc - pc + fc):
                    if 0 <= r < n and 0 <= c < m:
                        out[i, j] = max(out[i, j], x[r, c])
    return out


@st.composite
def valid_configs(draw, max_out=4):
    """(x, w, stride, padding) with a valid configuration, built backwards from the output size."""
    fr, fc = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sr, sc = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pr, pc = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    outr, outc = draw(st.integers(1, max_out)), draw(st.integers(1, max_out))
    n, m = (outr - 1) * sr + fr - 2 * pr, (outc - 1) * sc + fc - 2 * pc
    if n < 1:  # so much padding that no input is left: drop the padding on that axis
        pr, n = 0, (outr - 1) * sr + fr
    if m < 1:
        pc, m = 0, (outc - 1) * sc + fc
    ints = st.integers(-9, 9)
    x = np.array(draw(st.lists(st.lists(ints, min_size=m, max_size=m), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.lists(ints, min_size=fc, max_size=fc), min_size=fr,
                               max_size=fr)))
    return x, w, (sr, sc), (pr, pc)


# --------------------------------------------------------------------------- handout problem 2
def test_handout_2a_padding0_stride1_matches_hand_arithmetic():
    # Worked by hand, cross-correlation (F slid as it is, no flip), windows row by row:
    # [1 2;4 3]: 1·1 + 2·(−1) + 4·0 + 3·2 = 5     [2 3;3 2]: 2 − 3 + 0 + 4 = 3
    # [3 4;2 1]: 3 − 4 + 0 + 2 = 1                [4 3;−1 0]: 4 − 3 + 0 + 0 = 1
    # [3 2;0 1]: 3 − 2 + 0 + 2 = 3                [2 1;1 2]: 2 − 1 + 0 + 4 = 5
    # [−1 0;0 −2]: −1 − 0 + 0 − 4 = −5            [0 1;−2 4]: 0 − 1 + 0 + 8 = 7
    # [1 2;4 0]: 1 − 2 + 0 + 0 = −1
    expected = [[5, 3, 1], [1, 3, 5], [-5, 7, -1]]
    assert sliding.conv_result(I, F, stride=1, padding=0).tolist() == expected
    np.testing.assert_array_equal(conv_oracle(I, F, (1, 1), (0, 0)), expected)


def test_handout_2b_padding1_stride2_matches_scipy():
    expected = [[2, 6, 0], [-6, 3, 1], [0, -6, 0]]  # (4 − 2 + 2)/2 + 1 = 3 per side
    np.testing.assert_array_equal(conv_oracle(I, F, (2, 2), (1, 1)), expected)
    assert sliding.conv_result(I, F, stride=2, padding=1).tolist() == expected


def test_handout_2c_maxpool3_padding1_stride3():
    expected = [[4, 4], [0, 4]]  # (4 − 3 + 2)/3 + 1 = 2 per side; padding never wins
    np.testing.assert_array_equal(pool_oracle(I, (3, 3), (3, 3), (1, 1)), expected)
    assert sliding.pool_result(I, 3, stride=3, padding=1).tolist() == expected


def test_handout_2c_bottom_left_window_max_is_zero_not_padding():
    # the window over rows 2–3, cols 0–1 holds −1, 0, 0, −2 and padding: the max is 0, an input
    # cell, even though zero padding would also give 0 (−∞ padding is the rule)
    step = sliding.pool_steps(I, 3, 3, 1)[2]
    assert step.value == 0
    assert not step.in_padding[step.winner]
    assert I[step.winner_input] == 0


# --------------------------------------------------------------------------- one conv step
def test_conv_step_count_is_number_of_output_cells():
    assert len(sliding.conv_steps(I, F)) == 9
    assert len(sliding.conv_steps(I, F, 2, 1)) == 9
    assert len(sliding.conv_steps(np.ones((5, 7)), np.ones((3, 2)), (1, 5), 0)) == 3 * 2


def test_conv_steps_go_row_by_row_over_the_output():
    steps = sliding.conv_steps(I, F, 2, 1)
    assert [s.out_index for s in steps] == [(i, j) for i in range(3) for j in range(3)]
    assert [s.index for s in steps] == list(range(9))
    assert all(s.n_steps == 9 for s in steps)


def test_conv_window_top_left_is_stride_times_output_index_in_padded_coordinates():
    for s in sliding.conv_steps(I, F, stride=2, padding=1):
        i, j = s.out_index
        assert s.top_left == (2 * i, 2 * j)
        assert s.top_left_input == (2 * i - 1, 2 * j - 1)


def test_conv_step_patch_products_and_running_sum():
    s = sliding.conv_steps(I, F, 1, 0)[1]  # window [2 3; 3 2]
    assert s.patch.tolist() == [[2, 3], [3, 2]]
    assert s.products.tolist() == [[2, -3], [0, 4]]
    assert s.running_sums.tolist() == [2, -1, -1, 3]
    assert s.total == s.value == 3


def test_conv_step_marks_padding_cells_of_the_window():
    s = sliding.conv_steps(I, F, 2, 1)[0]
    assert s.in_padding.tolist() == [[True, True], [True, False]]
    assert s.patch.tolist() == [[0, 0], [0, 1]]


def test_integer_inputs_give_integer_values():
    s = sliding.conv_steps(I, F)[0]
    assert isinstance(s.value, int) and s.value == 5


def test_float_inputs_give_float_values():
    s = sliding.conv_steps(I * 0.5, F)[0]
    assert isinstance(s.value, float) and s.value == 2.5


def test_steps_are_read_only():
    s = sliding.conv_steps(I, F)[0]
    with pytest.raises(ValueError):
        s.patch[0, 0] = 99
    with pytest.raises(AttributeError):
        s.value = 99  # frozen dataclass


def test_inputs_are_left_unchanged():
    x, w = I.copy(), F.copy()
    sliding.conv_steps(x, w, 2, 1)
    sliding.pool_steps(x, 3, 3, 1)
    np.testing.assert_array_equal(x, I)
    np.testing.assert_array_equal(w, F)


def test_rectangular_stride_and_padding_pairs():
    x = np.arange(12).reshape(3, 4)
    w = np.array([[1, -1]])
    got = sliding.conv_result(x, w, stride=(1, 2), padding=(0, 1))
    np.testing.assert_array_equal(got, conv_oracle(x, w, (1, 2), (0, 1)))
    assert got.shape == (3, 3)


def test_padded_input_and_mask():
    xp = sliding.padded_input(I, 1)
    assert xp.shape == (6, 6) and xp[0].tolist() == [0] * 6 and xp[1, 1] == 1
    assert np.isneginf(sliding.padded_input(I, 1, fill=-np.inf)[0, 0])
    mask = sliding.padding_mask(I.shape, 1)
    assert mask.sum() == 36 - 16 and not mask[1:5, 1:5].any()


# --------------------------------------------------------------------------- pool steps
def test_pool_stride_defaults_to_size():
    steps = sliding.pool_steps(np.arange(16).reshape(4, 4), 2)
    assert [s.top_left for s in steps] == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert [s.value for s in steps] == [5, 7, 13, 15]


def test_pool_padding_is_minus_infinity_in_the_patch():
    s = sliding.pool_steps(I, 3, 3, 1)[0]
    assert np.isneginf(s.patch[0]).all() and np.isneginf(s.patch[:, 0]).all()
    assert s.patch[1:, 1:].tolist() == [[1, 2], [4, 3]]


def test_pool_winner_with_all_negative_values_is_not_padding():
    x = -np.arange(1, 5).reshape(2, 2)  # all negative: zero padding would wrongly win
    s = sliding.pool_steps(x, 2, 2, 1)[0]
    assert s.value == -1
    assert s.winner_input == (0, 0) and not s.in_padding[s.winner]


def test_pool_tie_goes_to_first_cell_in_row_major_order():
    s = sliding.pool_steps([[7, 7], [7, 7]], 2)[0]
    assert s.winner == (0, 0)


def test_pool_window_covering_only_padding_has_no_winner():
    # possible only when P >= F: the first window sits entirely in the padding
    s = sliding.pool_steps([[3]], 1, 1, 1)[0]
    assert s.winner is None and np.isneginf(s.value)


# --------------------------------------------------------------------------- invalid configurations
@pytest.mark.parametrize("kwargs, words", [
    (dict(stride=0), "at least 1"),
    (dict(stride=-2), "at least 1"),
    (dict(padding=-1), "0 or more"),
    (dict(stride=2), "does not divide"),  # (5 − 2)/2 + 1 = 2.5
    (dict(stride=1.5), "whole number"),
    (dict(stride=(1, 2, 3)), "pair"),
])
def test_invalid_conv_configurations_raise_valueerror_saying_why(kwargs, words):
    x = np.zeros((5, 5))  # 5 − 2 = 3: stride 2 does not divide it
    with pytest.raises(ValueError, match=words):
        sliding.conv_steps(x, np.ones((2, 2)), **kwargs)


def test_filter_larger_than_padded_input_raises():
    with pytest.raises(ValueError, match="larger than the padded input"):
        sliding.conv_steps(np.ones((2, 2)), np.ones((3, 3)))
    sliding.conv_steps(np.ones((2, 2)), np.ones((3, 3)), padding=1)  # fits once padded


def test_not_2d_inputs_raise():
    with pytest.raises(ValueError, match="2-D"):
        sliding.conv_steps(np.ones((2, 2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        sliding.conv_steps(np.ones((0, 3)), np.ones((1, 1)))


def test_invalid_pool_stride_raises():
    with pytest.raises(ValueError, match="does not divide"):
        sliding.pool_steps(I, 3, stride=2)  # (4 − 3)/2 + 1 = 1.5


def test_output_shape_handout_problem_1b():
    assert sliding.output_shape(32, 5, 1, 0) == (28, 28)
    assert sliding.output_shape(32, 5, 3, 0) == (10, 10)
    assert sliding.output_shape(32, 5, 3, 3) == (12, 12)
    for s, p in [(2, 0), (2, 3)]:
        with pytest.raises(ValueError, match="does not divide"):
            sliding.output_shape(32, 5, s, p)


# --------------------------------------------------------------------------- properties
@PROPS
@given(valid_configs())
def test_property_conv_matches_scipy_correlate2d(cfg):
    x, w, s, p = cfg
    np.testing.assert_allclose(sliding.conv_result(x, w, s, p), conv_oracle(x, w, s, p))


@PROPS
@given(valid_configs())
def test_property_every_conv_step_agrees_with_an_independent_window(cfg):
    x, w, (sr, sc), (pr, pc) = cfg
    xp = np.pad(x, ((pr, pr), (pc, pc)))
    for step in sliding.conv_steps(x, w, (sr, sc), (pr, pc)):
        i, j = step.out_index
        window = xp[i * sr:i * sr + w.shape[0], j * sc:j * sc + w.shape[1]]
        assert step.top_left == (i * sr, j * sc)
        np.testing.assert_array_equal(step.patch, window)
        np.testing.assert_array_equal(step.products, window * w)
        assert step.total == int((window * w).sum())


@PROPS
@given(valid_configs())
def test_property_pool_matches_loop_oracle_and_winner_is_an_input_cell(cfg):
    x, w, s, p = cfg
    size = w.shape
    got = sliding.pool_result(x, size, s, p)
    np.testing.assert_array_equal(got, pool_oracle(x, size, s, p))
    for step in sliding.pool_steps(x, size, s, p):
        if step.winner is None:
            assert np.isneginf(step.value)
            continue
        r, c = step.winner_input
        assert 0 <= r < x.shape[0] and 0 <= c < x.shape[1]
        assert x[r, c] == step.value
        assert not step.in_padding[step.winner]


@PROPS
@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 6), st.integers(0, 4))
def test_property_validity_is_exactly_stride_divides_n_minus_f_plus_2p(n, f, s, p):
    fits = f <= n + 2 * p
    divides = (n - f + 2 * p) % s == 0
    if fits and divides:
        assert sliding.output_shape(n, f, s, p) == ((n - f + 2 * p) // s + 1,) * 2
    else:
        with pytest.raises(ValueError):
            sliding.output_shape(n, f, s, p)


@PROPS
@given(st.integers(1, 40), st.integers(1, 9), st.integers(1, 6), st.integers(0, 4))
def test_property_tiling_reports_the_uncovered_strip_instead_of_raising(n, f, s, p):
    if f > n + 2 * p:
        with pytest.raises(ValueError, match="no window fits"):
            sliding.tiling(n, f, s, p)
        return
    t = sliding.tiling(n, f, s, p)
    room = n - f + 2 * p
    assert t.out_shape == (room // s + 1,) * 2
    assert t.remainder == (room % s,) * 2
    assert t.valid == (room % s == 0)
    assert len(t.uncovered_rows) == room % s
    assert t.uncovered_rows == range(n + 2 * p - room % s, n + 2 * p)
    covered = np.zeros(n + 2 * p, bool)
    for b in range(0, room + 1, s):
        covered[b:b + f] = True
    np.testing.assert_array_equal(t.covered_rows, covered)


# --------------------------------------------------------------------------- tiling (problem 1)
@pytest.mark.parametrize("S, P, out, valid", [
    (1, 0, 28, True), (2, 0, 14, False), (3, 0, 10, True), (2, 3, 17, False), (3, 3, 12, True),
])
def test_tiling_problem_1b(S, P, out, valid):
    t = sliding.tiling(32, 5, S, P)
    assert t.out_shape == (out, out)
    assert t.valid is valid
    assert (len(t.uncovered_rows) > 0) is (not valid)


def test_tiling_alexnet_conv1_is_55_by_55():
    t = sliding.tiling(227, 11, 4, 0)
    assert t.valid and t.out_shape == (55, 55)
    assert t.row_starts[-1] == 216 and t.covered_rows.all()


def test_tiling_invalid_stride_leaves_last_row_uncovered():
    t = sliding.tiling(32, 5, 2, 0)  # (32 − 5)/2 + 1 = 14.5
    assert t.uncovered_rows == range(31, 32) and t.uncovered_cols == range(31, 32)
    assert t.exact_out == (14.5, 14.5)


def test_tiling_stride_larger_than_filter_skips_rows_between_windows():
    t = sliding.tiling(7, 2, 3, 0)
    assert t.covered_rows.tolist() == [True, True, False, True, True, False, False]


def test_tiling_rejects_bad_sizes():
    for args in [(0, 1, 1, 0), (5, 0, 1, 0), (5, 1, 0, 0), (5, 1, 1, -1), (3, 5, 1, 0)]:
        with pytest.raises(ValueError):
            sliding.tiling(*args)
