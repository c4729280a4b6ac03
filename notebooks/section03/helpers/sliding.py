"""The maths of a sliding filter, one step at a time.

Student-safe: this module imports numpy only and is shipped with the release. The pictures in
``helpers.viz`` and the tests both read the steps computed here, so a picture cannot disagree
with the maths it illustrates.

Conventions
-----------
* Arrays are 2-D and indexed ``[row, col]``; any rectangular input ``x`` and filter ``w``.
* ``stride`` and ``padding`` are an int (the same along rows and columns) or a pair
  ``(along_rows, along_cols)``.
* Convolution is *cross-correlation*, as deep-learning layers compute it: the filter is not
  flipped. Padding is zeros.
* For max pooling the padding counts as minus infinity, so a padding cell never wins the max.
* "Padded coordinates" index the padded input: padded cell ``(r, c)`` is input cell
  ``(r - P_rows, c - P_cols)``.
* A configuration is valid when the filter fits inside the padded input and the stride divides
  ``n - F + 2P`` exactly along both axes; then the output has ``(n - F + 2P) / S + 1`` cells along
  that axis. Invalid configurations raise ``ValueError`` with a message that says why, except in
  :func:`tiling`, which reports the strip that no window covers instead (that is what to show).

Examples
--------
>>> I = [[1, 2, 3, 4], [4, 3, 2, 1], [-1, 0, 1, 2], [0, -2, 4, 0]]
>>> F = [[1, -1], [0, 2]]
>>> steps = conv_steps(I, F)
>>> len(steps), steps[0].out_index, steps[0].value
(9, (0, 0), 5)
>>> conv_result(I, F).tolist()
[[5, 3, 1], [1, 3, 5], [-5, 7, -1]]
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ConvStep",
    "PoolStep",
    "Tiling",
    "conv_steps",
    "pool_steps",
    "conv_result",
    "pool_result",
    "padded_input",
    "padding_mask",
    "output_shape",
    "tiling",
]

Pair = tuple[int, int]


# --------------------------------------------------------------------------- validation
def _pair(value, name: str, minimum: int) -> Pair:
    """Return ``value`` as a pair of ints ``(rows, cols)``; ValueError if invalid."""
    if isinstance(value, (tuple, list, np.ndarray)):
        items = list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) \
            else list(value)
        if len(items) != 2:
            raise ValueError(f"{name} must be an int or a pair (rows, cols), got {value!r}")
    else:
        items = [value, value]
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise ValueError(f"{name} must be a whole number (an int), got {item!r}")
        item = int(item)
        if item < minimum:
            if minimum == 1:
                raise ValueError(f"{name} must be at least 1, got {item}")
            raise ValueError(f"{name} must be 0 or more, got {item}")
        out.append(item)
    return out[0], out[1]


def _array2d(a, name: str) -> np.ndarray:
    """Return ``a`` as a 2-D real numeric array (bools become ints); ValueError if it is not."""
    arr = np.asarray(a)
    if arr.dtype == bool:
        arr = arr.astype(int)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [rows, cols], got {arr.ndim} dimension(s) "
                         f"with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr



def _check_axis(axis: str, n: int, f: int, s: int, p: int) -> int:
    """Output length along one axis; ValueError when the filter does not fit or S does not divide."""
    span = n + 2 * p
    if f > span:
        raise ValueError(
            f"the filter is larger than the padded input along the {axis}: F = {f} but "
            f"n + 2P = {n} + 2·{p} = {span}; the filter must fit inside the padded input")
    room = n - f + 2 * p
    if room % s:
        raise ValueError(
            f"stride {s} does not divide n − F + 2P = {n} − {f} + 2·{p} = {room} along the "
            f"{axis}: {room}/{s} + 1 = {room / s + 1:g} is not a whole number, so the windows "
            f"do not tile the padded input (the last {room % s} {axis[:-1]}"
            f"{'s' if room % s > 1 else ''} would never be covered)")
    return room // s + 1


def output_shape(input_shape, filter_shape, stride=1, padding=0) -> Pair:
    """Shape of the output of a sliding filter.

    Parameters
    ----------
    input_shape : int or (int, int)
        ``(n_rows, n_cols)`` of the input (an int means a square input).
    filter_shape : int or (int, int)
        ``(F_rows, F_cols)`` of the filter or pool window.
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0

    Returns
    -------
    (int, int)
        ``((n_rows - F_rows + 2 P_rows) / S_rows + 1, (n_cols - F_cols + 2 P_cols) / S_cols + 1)``.

    Raises
    ------
    ValueError
        For a size or stride below 1, a padding below 0, a filter larger than the padded input,
        or a stride that does not divide ``n - F + 2P`` exactly.
    """
    n = _pair(input_shape, "the input size", 1)
    f = _pair(filter_shape, "the filter size", 1)
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    return (_check_axis("rows", n[0], f[0], s[0], p[0]),
            _check_axis("columns", n[1], f[1], s[1], p[1]))


def padded_input(x, padding=0, fill=0) -> np.ndarray:
    """The input surrounded by ``padding`` cells of value ``fill``.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
    padding : int or (int, int), default 0
    fill : number, default 0
        0 for convolution; ``-np.inf`` for max pooling (then the result is float).

    Returns
    -------
    ndarray, shape (n_rows + 2 P_rows, n_cols + 2 P_cols)
        A new array; ``x`` is left unchanged.
    """
    arr = _array2d(x, "x")
    pr, pc = _pair(padding, "padding", 0)
    if np.isinf(fill) or (isinstance(fill, float) and not float(fill).is_integer()):
        arr = arr.astype(float)
    return np.pad(arr, ((pr, pr), (pc, pc)), mode="constant", constant_values=fill)


def padding_mask(input_shape, padding=0) -> np.ndarray:
    """Boolean mask of the padded grid, True on padding cells.

    Parameters
    ----------
    input_shape : (int, int)
    padding : int or (int, int)

    Returns
    -------
    ndarray of bool, shape (n_rows + 2 P_rows, n_cols + 2 P_cols)
    """
    nr, nc = _pair(tuple(input_shape), "the input size", 1)
    pr, pc = _pair(padding, "padding", 0)
    mask = np.ones((nr + 2 * pr, nc + 2 * pc), dtype=bool)
    mask[pr:pr + nr, pc:pc + nc] = False
    return mask


# --------------------------------------------------------------------------- steps
def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a)  # own copy
    a.setflags(write=False)
    return a


def _scalar(v):
    """numpy scalar -> Python int/float (ints stay ints, so 5 prints as 5, not 5.0)."""
    v = v.item() if hasattr(v, "item") else v
    return v


@dataclass(frozen=True, eq=False)
class ConvStep:
    """One step of a 2-D cross-correlation: one window position, one output cell.

    Attributes
    ----------
    index : int
        0-based step number; steps go row by row over the output (row-major).
    n_steps : int
        Number of steps = number of output cells.
    out_index : (int, int)
        ``(row, col)`` of the output cell this step fills.
    top_left : (int, int)
        Window's top-left cell in padded coordinates: ``(row * S_rows, col * S_cols)``.
    top_left_input : (int, int)
        The same cell in input coordinates (negative inside the top/left padding).
    patch : ndarray, shape (F_rows, F_cols), read-only
        The padded input's values under the window (0 on padding cells).
    in_padding : ndarray of bool, shape (F_rows, F_cols), read-only
        True where the window covers a padding cell.
    weights : ndarray, shape (F_rows, F_cols), read-only
        The filter.
    products : ndarray, shape (F_rows, F_cols), read-only
        ``patch * weights`` elementwise.
    running_sums : ndarray, shape (F_rows * F_cols,), read-only
        Cumulative sum of ``products`` in row-major order; the last entry is ``total``.
    total : int or float
        Sum of the products.
    value : int or float
        The output value written at ``out_index`` (equal to ``total``: no bias).
    """

    index: int
    n_steps: int
    out_index: Pair
    top_left: Pair
    top_left_input: Pair
    patch: np.ndarray
    in_padding: np.ndarray
    weights: np.ndarray
    products: np.ndarray
    running_sums: np.ndarray
    total: float
    value: float

    @property
    def rows(self) -> range:
        """Padded-coordinate rows covered by the window."""
        return range(self.top_left[0], self.top_left[0] + self.patch.shape[0])

    @property
    def cols(self) -> range:
        """Padded-coordinate columns covered by the window."""
        return range(self.top_left[1], self.top_left[1] + self.patch.shape[1])


@dataclass(frozen=True, eq=False)
class PoolStep:
    """One step of a 2-D max pool: one window position, one output cell.

    Attributes
    ----------
    index, n_steps, out_index, top_left, top_left_input, rows, cols
        As in :class:`ConvStep`.
    patch : ndarray of float, shape (F_rows, F_cols), read-only
        The padded input's values under the window, ``-inf`` on padding cells.
    in_padding : ndarray of bool, shape (F_rows, F_cols), read-only
        True where the window covers a padding cell.
    value : int, float or -inf
        The max of the window's input cells (``-inf`` only if the window covers padding alone,
        which needs ``P >= F``).
    winner : (int, int) or None
        Position of the max inside the window (first one in row-major order on a tie);
        never a padding cell. None when the window covers padding alone.
    winner_padded : (int, int) or None
        The winner in padded coordinates.
    winner_input : (int, int) or None
        The winner in input coordinates (always inside the input).
    """

    index: int
    n_steps: int
    out_index: Pair
    top_left: Pair
    top_left_input: Pair
    patch: np.ndarray
    in_padding: np.ndarray
    value: float
    winner: Pair | None
    winner_padded: Pair | None
    winner_input: Pair | None

    rows = ConvStep.rows
    cols = ConvStep.cols


def conv_steps(x, w, stride=1, padding=0) -> list[ConvStep]:
    """Every step of the cross-correlation of ``x`` with ``w``, in output row-major order.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
        The input. Left unchanged.
    w : array_like, shape (F_rows, F_cols)
        The filter (not flipped: cross-correlation, as in deep-learning layers).
    stride : int or (int, int), default 1
    padding : int or (int, int), default 0
        Zero padding on every side.

    Returns
    -------
    list of ConvStep
        One per output cell: ``len == out_rows * out_cols``.

    Raises
    ------
    ValueError
        Invalid configuration (see :func:`output_shape`) or inputs that are not 2-D real arrays.
    """
    xa = _array2d(x, "x")
    wa = _array2d(w, "the filter w")
    s = _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    out_r, out_c = output_shape(xa.shape, wa.shape, s, p)
    xp = padded_input(xa, p, fill=0)
    pad = padding_mask(xa.shape, p)
    fr, fc = wa.shape
    n = out_r * out_c
    wro = _readonly(wa)
    steps = []
    for k in range(n):
        i, j = divmod(k, out_c)
        r0, c0 = i * s[0], j * s[1]
        patch = xp[r0:r0 + fr, c0:c0 + fc]
        products = patch * wa
        running = np.cumsum(products.ravel())
        total = _scalar(running[-1])
        steps.append(ConvStep(
            index=k, n_steps=n, out_index=(i, j), top_left=(r0, c0),
            top_left_input=(r0 - p[0], c0 - p[1]), patch=_readonly(patch),
            in_padding=_readonly(pad[r0:r0 + fr, c0:c0 + fc]), weights=wro,
            products=_readonly(products), running_sums=_readonly(running),
            total=total, value=total))
    return steps


def pool_steps(x, size, stride=None, padding=0) -> list[PoolStep]:
    """Every step of a max pool over ``x``, in output row-major order.

    Parameters
    ----------
    x : array_like, shape (n_rows, n_cols)
        The input. Left unchanged.
    size : int or (int, int)
        ``F``: the pool window is ``F_rows × F_cols``.
    stride : int or (int, int), optional
        Defaults to ``size`` (windows side by side, no overlap).
    padding : int or (int, int), default 0
        Padding cells count as minus infinity: they never win the max.

    Returns
    -------
    list of PoolStep
        One per output cell: ``len == out_rows * out_cols``.

    Raises
    ------
    ValueError
        Invalid configuration (see :func:`output_shape`) or an input that is not a 2-D real array.
    """
    xa = _array2d(x, "x")
    f = _pair(size, "the pool size", 1)
    s = f if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    out_r, out_c = output_shape(xa.shape, f, s, p)
    xp = padded_input(xa, p, fill=-np.inf)
    pad = padding_mask(xa.shape, p)
    n = out_r * out_c
    steps = []
    for k in range(n):
        i, j = divmod(k, out_c)
        r0, c0 = i * s[0], j * s[1]
        patch = xp[r0:r0 + f[0], c0:c0 + f[1]]
        inpad = pad[r0:r0 + f[0], c0:c0 + f[1]]
        if inpad.all():
            value, winner, wp, wi = -np.inf, None, None, None
        else:
            candidates = np.where(inpad, -np.inf, patch)
            flat = int(np.argmax(candidates))
            winner = divmod(flat, f[1])
            value = xa[r0 + winner[0] - p[0], c0 + winner[1] - p[1]]
            value = _scalar(value)
            wp = (r0 + winner[0], c0 + winner[1])
            wi = (wp[0] - p[0], wp[1] - p[1])
        steps.append(PoolStep(
            index=k, n_steps=n, out_index=(i, j), top_left=(r0, c0),
            top_left_input=(r0 - p[0], c0 - p[1]), patch=_readonly(patch),
            in_padding=_readonly(inpad), value=value, winner=winner,
            winner_padded=wp, winner_input=wi))
    return steps


def _assemble(steps, dtype) -> np.ndarray:
    out_c = max(st.out_index[1] for st in steps) + 1
    out_r = len(steps) // out_c
    out = np.empty((out_r, out_c), dtype=dtype)
    for st in steps:
        out[st.out_index] = st.value
    return out


def conv_result(x, w, stride=1, padding=0) -> np.ndarray:
    """The whole output of :func:`conv_steps` as an array, shape (out_rows, out_cols).

    Integer inputs give an integer array (the pictures print 5, not 5.0).
    """
    steps = conv_steps(x, w, stride, padding)
    return _assemble(steps, np.result_type(np.asarray(steps[0].patch), steps[0].weights))


def pool_result(x, size, stride=None, padding=0) -> np.ndarray:
    """The whole output of :func:`pool_steps` as a float array, shape (out_rows, out_cols)."""
    return _assemble(pool_steps(x, size, stride, padding), float)


# --------------------------------------------------------------------------- tiling
@dataclass(frozen=True, eq=False)
class Tiling:
    """How the windows of a sliding filter tile a (possibly large) input, without the numbers.

    All positions are in padded coordinates (row/col 0 is the first padding row/col).

    Attributes
    ----------
    n, F, S, P : (int, int)
        Input size, filter size, stride and padding as ``(rows, cols)``.
    padded : (int, int)
        ``n + 2P``.
    row_starts, col_starts : tuple of int
        First row (col) of every window position along that axis: ``0, S, 2S, ...`` as long as
        the window still fits.
    out_shape : (int, int)
        Number of window positions along each axis (``len(row_starts), len(col_starts)``). For a
        valid configuration this is the output shape.
    remainder : (int, int)
        ``(n - F + 2P) mod S`` per axis: the number of rows (cols) at the bottom (right) that no
        window covers. Both 0 exactly when the configuration is valid.
    uncovered_rows, uncovered_cols : range
        The uncovered strip at the bottom / right (empty when the stride divides).
    covered_rows, covered_cols : ndarray of bool, shapes (padded rows,), (padded cols,)
        True where at least one window covers that row (col). Besides the end strip, rows can be
        skipped between windows when S > F.
    valid : bool
        True when the stride divides ``n - F + 2P`` along both axes.
    """

    n: Pair
    F: Pair
    S: Pair
    P: Pair
    padded: Pair
    row_starts: tuple
    col_starts: tuple
    out_shape: Pair
    remainder: Pair
    uncovered_rows: range
    uncovered_cols: range
    covered_rows: np.ndarray
    covered_cols: np.ndarray
    valid: bool

    @property
    def exact_out(self) -> tuple[float, float]:
        """``(n - F + 2P) / S + 1`` per axis, as the formula gives it (not a whole number when invalid)."""
        return tuple((self.n[a] - self.F[a] + 2 * self.P[a]) / self.S[a] + 1 for a in (0, 1))


def tiling(n, F, S=1, P=0) -> Tiling:
    """Window positions of a sliding filter, and the strip no window covers.

    Unlike :func:`output_shape` this does not raise when S does not divide ``n - F + 2P``: it
    reports the uncovered strip instead, since that is the thing to show.

    Parameters
    ----------
    n : int or (int, int)
        Input size (an int means square).
    F : int or (int, int)
        Filter size.
    S : int or (int, int), default 1
        Stride.
    P : int or (int, int), default 0
        Padding.

    Returns
    -------
    Tiling

    Raises
    ------
    ValueError
        For n, F or S below 1, P below 0, or a filter larger than the padded input (then no
        window fits at all).
    """
    n2 = _pair(n, "the input size n", 1)
    f2 = _pair(F, "the filter size F", 1)
    s2 = _pair(S, "the stride S", 1)
    p2 = _pair(P, "the padding P", 0)
    starts, rem, uncovered, covered = [], [], [], []
    for a, axis in ((0, "rows"), (1, "columns")):
        span = n2[a] + 2 * p2[a]
        if f2[a] > span:
            raise ValueError(
                f"the filter is larger than the padded input along the {axis}: F = {f2[a]} but "
                f"n + 2P = {n2[a]} + 2·{p2[a]} = {span}; no window fits")
        room = span - f2[a]
        st = tuple(range(0, room + 1, s2[a]))
        cov = np.zeros(span, dtype=bool)
        for b in st:
            cov[b:b + f2[a]] = True
        end = st[-1] + f2[a]
        starts.append(st)
        rem.append(room % s2[a])
        uncovered.append(range(end, span))
        cov.setflags(write=False)
        covered.append(cov)
    return Tiling(
        n=n2, F=f2, S=s2, P=p2, padded=(n2[0] + 2 * p2[0], n2[1] + 2 * p2[1]),
        row_starts=starts[0], col_starts=starts[1],
        out_shape=(len(starts[0]), len(starts[1])), remainder=(rem[0], rem[1]),
        uncovered_rows=uncovered[0], uncovered_cols=uncovered[1],
        covered_rows=covered[0], covered_cols=covered[1],
        valid=rem[0] == 0 and rem[1] == 0)
