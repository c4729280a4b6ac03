"""helpers.reference agrees with independent oracles: scipy, numerical gradients, plain loops
written from the definitions, and the handout's worked numbers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import correlate2d
from scipy.spatial.distance import cdist

from helpers import reference as ref

# Reproducible in CI: the same examples every run, no timing-based failures.
PROPS = settings(derandomize=True, max_examples=60, deadline=None, database=None)


# ------------------------------------------------------------------ problem 1


@pytest.mark.parametrize("n, F, S, P, expected", [
    (32, 5, 1, 0, 28), (32, 5, 3, 0, 10), (32, 5, 3, 3, 12), (227, 11, 4, 0, 55), (55, 3, 2, 0, 27),
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (5, 5, 1, 0, 1),
])
def test_conv_output_size_matches_worked_examples(n, F, S, P, expected):
    assert ref.conv_output_size(n, F, S, P) == expected


@pytest.mark.parametrize("n, F, S, P, why", [
    (32, 5, 2, 0, "does not divide"), (32, 5, 2, 3, "does not divide"), (4, 7, 1, 1, "does not fit"),
    (0, 1, 1, 0, "at least 1"), (5, 0, 1, 0, "at least 1"), (5, 3, 0, 0, "at least 1"), (5, 3, 1, -1, "at least 0"),
    (5.0, 3, 1, 0, "integer"),
])
def test_conv_output_size_rejects_invalid_configurations_saying_why(n, F, S, P, why):
    with pytest.raises(ValueError, match=why):
        ref.conv_output_size(n, F, S, P)


@PROPS
@given(n=st.integers(1, 300), F=st.integers(1, 15), S=st.integers(1, 6), P=st.integers(0, 5))
def test_conv_output_size_counts_the_window_positions(n, F, S, P):
    positions = [start for start in range(0, n + 2 * P - F + 1, S)]
    fits = F <= n + 2 * P and (not positions or positions[-1] + F == n + 2 * P)
    if fits and positions:
        assert ref.conv_output_size(n, F, S, P) == len(positions)
    else:
        with pytest.raises(ValueError):
            ref.conv_output_size(n, F, S, P)


def test_handout_problem_1_answers():
    assert ref.q1b == {(1, 0): (28, 28, 1), (2, 0): None, (3, 0): (10, 10, 1), (2, 3): None, (3, 3): (12, 12, 1)}
    assert ref.q1c == (55, 55, 96)
    assert ref.q1e == 34944
    assert ref.q1f == 1150
    assert ref.q1g_shape == (27, 27, 96)
    assert ref.q1g_params == 0
    assert (ref.q1h_changes_channels, ref.q1h_all_pool_sizes) == (False, True)


def test_conv_param_count_counts_weights_and_one_bias_per_filter():
    F, C, K = 3, 5, 25
    weights = np.zeros((K, F, F, C))
    biases = np.zeros(K)
    assert ref.conv_param_count(F, C, K) == weights.size + biases.size


def test_pool_output_shape_keeps_the_channels():
    assert ref.pool_output_shape((55, 55, 96), 3, 2) == (27, 27, 96)


# ------------------------------------------------------------------ problem 2


def test_handout_problem_2_answers():
    np.testing.assert_array_equal(ref.q2a, [[5, 3, 1], [1, 3, 5], [-5, 7, -1]])
    np.testing.assert_array_equal(ref.q2b, [[2, 6, 0], [-6, 3, 1], [0, -6, 0]])
    np.testing.assert_array_equal(ref.q2c, [[4, 4], [0, 4]])


@st.composite
def conv_configs(draw):
    """A valid (x, w, stride, padding) for 2-D arrays of any shape."""
    S, P = draw(st.integers(1, 4)), draw(st.integers(0, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    oh, ow = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    h, w = (oh - 1) * S + kh - 2 * P, (ow - 1) * S + kw - 2 * P
    if h < 1 or w < 1:
        h, w, P = (oh - 1) * S + kh, (ow - 1) * S + kw, 0
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.normal(size=(h, w)), rng.normal(size=(kh, kw)), S, P


@PROPS
@given(conv_configs())
def test_conv2d_matches_scipy_correlate2d_subsampled(config):
    x, w, S, P = config
    full = correlate2d(np.pad(x, P), w, mode="valid")
    np.testing.assert_allclose(ref.conv2d(x, w, S, P), full[::S, ::S], atol=1e-12)


@PROPS
@given(conv_configs())
def test_max_pool2d_matches_a_loop_over_windows_with_minus_infinity_padding(config):
    x, w, S, P = config
    size = min(w.shape)
    P = min(P, size - 1)
    h, wd = x.shape
    if (h - size + 2 * P) % S or (wd - size + 2 * P) % S or size > min(h, wd) + 2 * P:
        with pytest.raises(ValueError):
            ref.max_pool2d(x, size, S, P)
        return
    xp = np.full((h + 2 * P, wd + 2 * P), -np.inf)
    xp[P:P + h, P:P + wd] = x
    expected = [[xp[i:i + size, j:j + size].max() for j in range(0, xp.shape[1] - size + 1, S)]
                for i in range(0, xp.shape[0] - size + 1, S)]
    np.testing.assert_array_equal(ref.max_pool2d(x, size, S, P), expected)


def test_conv2d_leaves_its_inputs_unchanged():
    x, w = ref.I.copy(), ref.F.copy()
    ref.conv2d(x, w, 2, 1)
    np.testing.assert_array_equal(x, ref.I)
    np.testing.assert_array_equal(w, ref.F)


def test_conv2d_rejects_a_stride_that_does_not_tile():
    with pytest.raises(ValueError, match="does not divide"):
        ref.conv2d(np.ones((5, 5)), np.ones((2, 2)), stride=2)


def test_max_pool2d_stride_defaults_to_the_window_size():
    np.testing.assert_array_equal(ref.max_pool2d(np.arange(16).reshape(4, 4), 2), [[5, 7], [13, 15]])


# ------------------------------------------------------------------ problem 3


@PROPS
@given(t=st.integers(1, 8), n=st.integers(1, 8), d=st.integers(1, 20), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float64, np.float32, np.int64, np.uint8]))
def test_distances_match_scipy_cityblock_for_any_dtype(t, n, d, seed, dtype):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (t, d)).astype(dtype)
    b = rng.integers(0, 256, (n, d)).astype(dtype)
    got = ref.compute_distances(a, b)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, cdist(a.astype(float), b.astype(float), "cityblock"))


# ------------------------------------------------------------------ problem 4


def test_handout_problem_4_answers():
    np.testing.assert_allclose(ref.q4_q, [0.22, 0.26])
    assert ref.q4_f == pytest.approx(0.116)
    np.testing.assert_allclose(ref.q4_dW, [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(ref.q4_dx, [-0.112, 0.636])


def _numerical_gradient(f, a, eps=1e-6):
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[idx] = eps
        grad[idx] = (f(a + step) - f(a - step)) / (2 * eps)
    return grad


@PROPS
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), df=st.floats(-3, 3))
def test_backward_matches_numerical_gradients(n, seed, df):
    rng = np.random.default_rng(seed)
    W, x = rng.normal(size=(n, n)), rng.normal(size=n)
    dW, dx = ref.backward(ref.forward(W, x)[1], df)
    np.testing.assert_allclose(dW, df * _numerical_gradient(lambda V: ref.forward(V, x)[0], W), atol=1e-5)
    np.testing.assert_allclose(dx, df * _numerical_gradient(lambda v: ref.forward(W, v)[0], x), atol=1e-5)


@PROPS
@given(n=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_closed_forms_match_backward(n, seed):
    rng = np.random.default_rng(seed)
    W, x = rng.normal(size=(n, n)), rng.normal(size=n)
    dW, dx = ref.backward(ref.forward(W, x)[1])
    np.testing.assert_allclose(ref.grad_W_closed_form(W, x), dW)
    np.testing.assert_allclose(ref.grad_x_closed_form(W, x), dx)
