"""Reference implementations of every name students define in Section 3.

GRADING ONLY: this module is never shipped to students (see ``helpers/__init__.py``).
The hidden tests in ``helpers.checks`` compare student answers against these.

Conventions follow the handout: volume shapes are ``(W, H, C)``; 2-D arrays are indexed
``[row, col]``; a convolution is a cross-correlation (no kernel flip), as deep-learning
layers compute it.
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# --------------------------------------------------------------------------------------
# Problem 1: conv arithmetic
# --------------------------------------------------------------------------------------


def _require_int(value, name: str, minimum: int) -> int:
    """Return ``value`` as an int, or raise ValueError saying why it is not acceptable."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def conv_output_size(n, F, S=1, P=0) -> int:
    """Size of one spatial side of a conv (or pool) output: ``(n - F + 2P) / S + 1``.

    Parameters
    ----------
    n : int  input side (width or height), >= 1
    F : int  receptive field side, >= 1
    S : int  stride, >= 1
    P : int  zero padding on each side, >= 0

    Raises
    ------
    ValueError
        If an argument is out of range, if the filter does not fit in the padded input,
        or if the stride does not divide ``n - F + 2P`` (the last window would hang off
        the edge: an invalid configuration).
    """
    n = _require_int(n, "n (input size)", 1)
    F = _require_int(F, "F (filter size)", 1)
    S = _require_int(S, "S (stride)", 1)
    P = _require_int(P, "P (padding)", 0)
    span = n - F + 2 * P
    if span < 0:
        raise ValueError(f"filter of size F={F} does not fit in the padded input n+2P={n + 2 * P}")
    if span % S:
        raise ValueError(
            f"invalid configuration: stride S={S} does not divide n - F + 2P = {span}; "
            f"({span})/{S} + 1 = {span / S + 1:g} is not a whole number"
        )
    return span // S + 1


def conv_output_shape(input_shape, F, S=1, P=0, K=1) -> tuple:
    """Output volume of a conv layer with K filters of size F x F.

    ``input_shape`` is ``(W, H, C)``; the result is ``(W', H', K)``. Raises ValueError
    for an invalid configuration (see :func:`conv_output_size`) or K < 1.
    """
    W, H, _C = input_shape
    K = _require_int(K, "K (number of filters)", 1)
    return (conv_output_size(W, F, S, P), conv_output_size(H, F, S, P), K)


def conv_param_count(F, C, K) -> int:
    """Trainable parameters of a conv layer: ``K * (F*F*C + 1)`` (weights plus one bias per filter)."""
    return K * (F * F * C + 1)


def pool_output_shape(input_shape, F, S, P=0) -> tuple:
    """Output volume of a pool layer: ``(W, H, C) -> (W', H', C)``; channels are unchanged."""
    W, H, C = input_shape
    return (conv_output_size(W, F, S, P), conv_output_size(H, F, S, P), C)


def _q1b():
    """1(b): 32x32x3 input, one 5x5x3 filter; None where the configuration is invalid."""
    answers = {}
    for S, P in [(1, 0), (2, 0), (3, 0), (2, 3), (3, 3)]:
        try:
            answers[(S, P)] = conv_output_shape((32, 32, 3), 5, S, P, K=1)
        except ValueError:
            answers[(S, P)] = None
    return answers


q1b = _q1b()
q1c = conv_output_shape((227, 227, 3), 11, S=4, P=0, K=96)
q1e = conv_param_count(11, 3, 96)
q1f = conv_param_count(3, 5, 25)
q1g_shape = pool_output_shape(q1c, 3, 2, 0)
q1g_params = 0
q1h_changes_channels = False
q1h_all_pool_sizes = True

# --------------------------------------------------------------------------------------
# Problem 2: kernel of truth
# --------------------------------------------------------------------------------------

I = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 2], [0, -2, 4, 0]])
F = np.array([[1, -1], [0, 2]])


def _pair(value, name: str, minimum: int) -> tuple:
    """An int or a pair of ints -> (rows, cols), validated."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return (_require_int(value[0], name, minimum), _require_int(value[1], name, minimum))
    v = _require_int(value, name, minimum)
    return (v, v)


def _windows(x, window, stride, padding, fill):
    """All windows of a padded 2-D array.

    Returns an array of shape ``(out_rows, out_cols, window_rows, window_cols)``.
    Raises ValueError for an invalid configuration, in each direction separately.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D input, got shape {x.shape}")
    (sr, sc), (pr, pc) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    fr, fc = window
    conv_output_size(x.shape[0], fr, sr, pr)  # validation only, rows
    conv_output_size(x.shape[1], fc, sc, pc)  # validation only, cols
    padded = np.pad(x.astype(float), ((pr, pr), (pc, pc)), constant_values=fill)
    return sliding_window_view(padded, (fr, fc))[::sr, ::sc]


def conv2d(x, w, stride=1, padding=0) -> np.ndarray:
    """2-D cross-correlation of ``x`` (h, w) with kernel ``w`` (kh, kw), zero padding.

    Returns a float array of shape ``((h - kh + 2P)/S + 1, (w - kw + 2P)/S + 1)``.
    Inputs are not modified. Raises ValueError for an invalid configuration.
    """
    w = np.asarray(w, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"expected a 2-D kernel, got shape {w.shape}")
    windows = _windows(x, w.shape, stride, padding, fill=0.0)
    return np.einsum("ijkl,kl->ij", windows, w)


def max_pool2d(x, size, stride=None, padding=0) -> np.ndarray:
    """2-D max pooling with a ``size`` x ``size`` window; padding counts as minus infinity.

    ``stride`` defaults to ``size``. Returns a float array. Raises ValueError for an
    invalid configuration.
    """
    size_rc = _pair(size, "size", 1)
    windows = _windows(x, size_rc, size if stride is None else stride, padding, fill=-np.inf)
    return windows.max(axis=(2, 3))


q2a = conv2d(I, F, stride=1, padding=0)
q2b = conv2d(I, F, stride=2, padding=1)
q2c = max_pool2d(I, 3, stride=3, padding=1)

# --------------------------------------------------------------------------------------
# Problem 3: L1 distances
# --------------------------------------------------------------------------------------


def compute_distances(X_test, X_train) -> np.ndarray:
    """L1 distances, shape ``(num_test, num_train)``, float64, for inputs of any real dtype.

    Converting to float64 first avoids unsigned wrap-around (uint8 images: 3 - 5 = 254).
    """
    a = np.asarray(X_test, dtype=np.float64)
    b = np.asarray(X_train, dtype=np.float64)
    return np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)


compute_distances_two_loops = compute_distances
compute_distances_one_loop = compute_distances
compute_distances_no_loops = compute_distances

# --------------------------------------------------------------------------------------
# Problem 4: f(W, x) = ||W x||^2
# --------------------------------------------------------------------------------------

W4 = np.array([[0.1, 0.5], [-0.3, 0.8]])
x4 = np.array([0.2, 0.4])


def forward(W, x):
    """Forward pass of ``f = ||W x||^2``; returns ``(f, cache)`` with ``cache = (W, x, q)``."""
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    q = W @ x
    return float(q @ q), (W, x, q)


def backward(cache, df=1.0):
    """Backward pass: ``dq = 2 q df``, ``dW = dq x^T`` (n, n), ``dx = W^T dq`` (n,)."""
    W, x, q = cache
    dq = 2.0 * q * df
    return np.outer(dq, x), W.T @ dq


def grad_W_closed_form(W, x) -> np.ndarray:
    """``grad_W f = 2 (W x) x^T``, shape (n, n)."""
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    return 2.0 * np.outer(W @ x, x)


def grad_x_closed_form(W, x) -> np.ndarray:
    """``grad_x f = 2 W^T W x``, shape (n,)."""
    W = np.asarray(W, dtype=float)
    x = np.asarray(x, dtype=float)
    return 2.0 * W.T @ (W @ x)


q4_q = W4 @ x4
q4_f = forward(W4, x4)[0]
q4_dW, q4_dx = backward(forward(W4, x4)[1])
