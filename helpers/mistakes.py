"""The known wrong answers of Section 3, each as the code a student would write.

GRADING ONLY: never shipped to students.

Each :class:`Mistake` is the source of one answer cell that gets something wrong in a
recognisable way. The same source serves two jobs, so the two cannot drift apart:

* ``helpers.checks`` executes it to get a model of the mistake; when a student's wrong
  answer agrees with the model, the failure message names the mistake.
* the test suite and the demo's sample class paste it into a submission's answer cell and
  check that autograding takes points off and the feedback names the mistake.

Mistakes of kind ``"rule"`` (a loop where none is allowed, numpy-only, modified inputs) are
recognised by inspecting the code or the inputs, not by comparing outputs.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """One recognisable wrong answer.

    Attributes
    ----------
    slug : str         short id shown to students as ``[mistake: slug]`` and counted by the report
    answer : str       the name the answer cell defines (also its ``grade_id``)
    notebook : str     notebook file stem, e.g. ``"01_conv_arithmetic"``
    explanation : str  what went wrong, in words a student understands
    code : str         source of a complete wrong answer cell
    kind : str         ``"output"`` (recognised by its results) or ``"rule"`` (by inspection)
    """

    slug: str
    answer: str
    notebook: str
    explanation: str
    code: str
    kind: str = "output"

    def build(self):
        """Execute :attr:`code` in a fresh namespace and return the object it defines."""
        return define(self.code, self.answer, f"<mistake {self.answer} {self.slug}>")


def define(code: str, name: str, filename: str = "<answer cell>", namespace: dict | None = None):
    """Run an answer cell's ``code`` as a notebook would and return the object named ``name``.

    The namespace (a fresh one unless given) has ``np`` imported, like the notebooks. The source is registered with
    ``linecache`` as IPython does for cells, so ``inspect.getsource`` works on what it defines.
    """
    import linecache

    import numpy as np

    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace = {} if namespace is None else namespace
    namespace.setdefault("np", np)
    namespace.setdefault("__name__", "__main__")
    exec(compile(code, filename, "exec"), namespace)
    return namespace[name]


def _m(slug, answer, notebook, explanation, code, kind="output"):
    return Mistake(slug, answer, notebook, explanation, textwrap.dedent(code).strip() + "\n", kind)


NB1, NB2, NB3, NB4 = (
    "01_conv_arithmetic",
    "02_kernel_of_truth",
    "03_l1_vectorization",
    "04_vector_backprop",
)

CATALOGUE: tuple[Mistake, ...] = (
    # ---------------------------------------------------------------- problem 1
    _m("forgot-plus-one", "conv_output_size", NB1,
       "The output size is (n - F + 2P)/S + 1: the +1 counts the window at the very first position.",
       """
       def conv_output_size(n, F, S=1, P=0):
           if (n - F + 2 * P) % S != 0:
               raise ValueError("stride does not fit")
           return (n - F + 2 * P) // S
       """),
    _m("padding-once", "conv_output_size", NB1,
       "Padding P is added on both sides of the input, so the formula has 2P, not P.",
       """
       def conv_output_size(n, F, S=1, P=0):
           if (n - F + P) % S != 0:
               raise ValueError("stride does not fit")
           return (n - F + P) // S + 1
       """),
    _m("floor-hides-invalid", "conv_output_size", NB1,
       "Floor division (//) silently rounds an invalid configuration down; when S does not "
       "divide n - F + 2P the layer is invalid and you must raise ValueError.",
       """
       def conv_output_size(n, F, S=1, P=0):
           return (n - F + 2 * P) // S + 1
       """),
    _m("channels-not-filters", "conv_output_shape", NB1,
       "The output depth is the number of filters K, not the input's number of channels C.",
       """
       def conv_output_shape(input_shape, F, S=1, P=0, K=1):
           W, H, C = input_shape
           side = lambda n: (n - F + 2 * P) // S + 1
           for n in (W, H):
               if (n - F + 2 * P) % S != 0 or n + 2 * P < F:
                   raise ValueError("invalid configuration")
           return (side(W), side(H), C)
       """),
    _m("input-depth-kept", "q1b", NB1,
       "One 5x5x3 filter produces one output channel: the depth of the output is K = 1, not 3.",
       """
       q1b = {(1, 0): (28, 28, 3), (2, 0): None, (3, 0): (10, 10, 3), (2, 3): None, (3, 3): (12, 12, 3)}
       """),
    _m("floor-hides-invalid", "q1b", NB1,
       "Stride 2 does not divide 32 - 5 + 2P: that configuration is invalid (None), not rounded down.",
       """
       q1b = {(1, 0): (28, 28, 1), (2, 0): (14, 14, 1), (3, 0): (10, 10, 1), (2, 3): (17, 17, 1), (3, 3): (12, 12, 1)}
       """),
    _m("forgot-plus-one", "q1c", NB1,
       "The output size is (n - F + 2P)/S + 1: do not forget the +1.",
       """
       q1c = (54, 54, 96)
       """),
    _m("channels-not-filters", "q1c", NB1,
       "The output depth is the number of filters (96), not the input's 3 channels.",
       """
       q1c = (55, 55, 3)
       """),
    _m("missing-bias", "conv_param_count", NB1,
       "Each filter also has one bias: K * (F*F*C + 1), not K * F*F*C.",
       """
       def conv_param_count(F, C, K):
           return K * F * F * C
       """),
    _m("one-shared-bias", "conv_param_count", NB1,
       "There is one bias per filter (K of them), not one for the whole layer.",
       """
       def conv_param_count(F, C, K):
           return K * F * F * C + 1
       """),
    _m("forgot-input-channels", "conv_param_count", NB1,
       "A filter spans all C input channels: it has F*F*C weights, not F*F.",
       """
       def conv_param_count(F, C, K):
           return K * (F * F + 1)
       """),
    _m("missing-bias", "q1e", NB1,
       "Each of the 96 filters also has a bias: 96 * (11*11*3 + 1).",
       """
       q1e = 96 * 11 * 11 * 3
       """),
    _m("forgot-input-channels", "q1e", NB1,
       "Each AlexNet filter spans all 3 input channels: 11*11*3 weights per filter.",
       """
       q1e = 96 * (11 * 11 + 1)
       """),
    _m("missing-bias", "q1f", NB1,
       "Each of the 25 filters also has a bias: 25 * (3*3*5 + 1).",
       """
       q1f = 25 * 3 * 3 * 5
       """),
    _m("used-input-size", "q1f", NB1,
       "The number of parameters does not depend on the input's width and height (31x31), "
       "nor on stride or padding: only on F, C and K.",
       """
       q1f = 25 * (31 * 31 * 5 + 1)
       """),
    _m("pool-changes-depth", "pool_output_shape", NB1,
       "A pool layer works on each channel separately: the depth C is unchanged.",
       """
       def pool_output_shape(input_shape, F, S, P=0):
           W, H, C = input_shape
           for n in (W, H):
               if (n - F + 2 * P) % S != 0 or n + 2 * P < F:
                   raise ValueError("invalid configuration")
           return ((W - F + 2 * P) // S + 1, (H - F + 2 * P) // S + 1, 1)
       """),
    _m("forgot-plus-one", "q1g_shape", NB1,
       "The pool's output size is (55 - 3)/2 + 1: do not forget the +1.",
       """
       q1g_shape = (26, 26, 96)
       """),
    _m("pool-has-parameters", "q1g_params", NB1,
       "A max pool layer has nothing to learn: it takes the maximum of each window.",
       """
       q1g_params = 3 * 3 * 96
       """),
    # ---------------------------------------------------------------- problem 2
    _m("flipped-kernel", "q2a", NB2,
       "Deep-learning 'convolution' is a cross-correlation: slide F as it is, do not flip it.",
       """
       q2a = [[1, 3, 5], [9, 7, 5], [-4, 6, -2]]
       """),
    _m("forgot-padding", "q2b", NB2,
       "Pad I with a border of zeros (padding 1) before sliding the filter with stride 2.",
       """
       q2b = [[5, 1], [-5, -1]]
       """),
    _m("flipped-kernel", "conv2d", NB2,
       "Deep-learning 'convolution' is a cross-correlation: do not flip the kernel.",
       """
       def conv2d(x, w, stride=1, padding=0):
           x = np.pad(np.asarray(x, dtype=float), padding)
           w = np.asarray(w, dtype=float)[::-1, ::-1]
           kh, kw = w.shape
           if (x.shape[0] - kh) % stride or (x.shape[1] - kw) % stride or x.shape[0] < kh or x.shape[1] < kw:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = np.sum(x[i * stride:i * stride + kh, j * stride:j * stride + kw] * w)
           return out
       """),
    _m("ignored-stride", "conv2d", NB2,
       "Move the window by `stride` cells each step: window (i, j) starts at row i*stride, column j*stride.",
       """
       def conv2d(x, w, stride=1, padding=0):
           x = np.pad(np.asarray(x, dtype=float), padding)
           w = np.asarray(w, dtype=float)
           kh, kw = w.shape
           if (x.shape[0] - kh) % stride or (x.shape[1] - kw) % stride or x.shape[0] < kh or x.shape[1] < kw:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = np.sum(x[i:i + kh, j:j + kw] * w)
           return out
       """),
    _m("transposed-result", "conv2d", NB2,
       "Your result is transposed: output[i, j] comes from the window at row i*stride, column j*stride.",
       """
       def conv2d(x, w, stride=1, padding=0):
           x = np.pad(np.asarray(x, dtype=float), padding)
           w = np.asarray(w, dtype=float)
           kh, kw = w.shape
           if (x.shape[0] - kh) % stride or (x.shape[1] - kw) % stride or x.shape[0] < kh or x.shape[1] < kw:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = np.sum(x[i * stride:i * stride + kh, j * stride:j * stride + kw] * w)
           return out.T
       """),
    _m("floor-hides-invalid", "conv2d", NB2,
       "When the stride does not divide (size - kernel + 2*padding) the configuration is invalid: "
       "raise ValueError instead of dropping the last row or column of windows.",
       """
       def conv2d(x, w, stride=1, padding=0):
           x = np.pad(np.asarray(x, dtype=float), padding)
           w = np.asarray(w, dtype=float)
           kh, kw = w.shape
           out = np.zeros(((x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = np.sum(x[i * stride:i * stride + kh, j * stride:j * stride + kw] * w)
           return out
       """),
    _m("zero-padding-in-max-pool", "max_pool2d", NB2,
       "Max pooling pads with minus infinity, not zero: a padded cell must never win the max "
       "(with negative inputs a zero pad would).",
       """
       def max_pool2d(x, size, stride=None, padding=0):
           stride = size if stride is None else stride
           x = np.pad(np.asarray(x, dtype=float), padding)
           if (x.shape[0] - size) % stride or (x.shape[1] - size) % stride or min(x.shape) < size:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = x[i * stride:i * stride + size, j * stride:j * stride + size].max()
           return out
       """),
    _m("stride-defaults-to-one", "max_pool2d", NB2,
       "When no stride is given, a pool's stride equals its size (non-overlapping windows), not 1.",
       """
       def max_pool2d(x, size, stride=None, padding=0):
           stride = 1 if stride is None else stride
           x = np.pad(np.asarray(x, dtype=float), padding, constant_values=-np.inf)
           if (x.shape[0] - size) % stride or (x.shape[1] - size) % stride or min(x.shape) < size:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = x[i * stride:i * stride + size, j * stride:j * stride + size].max()
           return out
       """),
    _m("average-pool", "max_pool2d", NB2,
       "This is max pooling: take the largest value of each window, not the mean.",
       """
       def max_pool2d(x, size, stride=None, padding=0):
           stride = size if stride is None else stride
           x = np.pad(np.asarray(x, dtype=float), padding)
           if (x.shape[0] - size) % stride or (x.shape[1] - size) % stride or min(x.shape) < size:
               raise ValueError("invalid configuration")
           out = np.zeros(((x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1))
           for i in range(out.shape[0]):
               for j in range(out.shape[1]):
                   out[i, j] = x[i * stride:i * stride + size, j * stride:j * stride + size].mean()
           return out
       """),
    _m("average-pool", "q2c", NB2,
       "This is max pooling: take the largest value of each window, not the mean.",
       """
       q2c = [[10 / 9, 10 / 9], [-1 / 3, 7 / 9]]
       """),
    # ---------------------------------------------------------------- problem 3
    _m("l2-instead-of-l1", "compute_distances_two_loops", NB3,
       "This is the L2 (Euclidean) distance; L1 is the sum of absolute differences, without squares or a square root.",
       """
       def compute_distances_two_loops(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           for i in range(num_test):
               for j in range(num_train):
                   dists[i, j] = np.sqrt(np.sum((X_test[i].astype(float) - X_train[j]) ** 2))
           return dists
       """),
    _m("missing-abs", "compute_distances_two_loops", NB3,
       "Take the absolute value of each difference before summing; otherwise positive and negative differences cancel.",
       """
       def compute_distances_two_loops(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           for i in range(num_test):
               for j in range(num_train):
                   dists[i, j] = np.sum(X_test[i].astype(float) - X_train[j])
           return dists
       """),
    _m("uint8-wraparound", "compute_distances_two_loops", NB3,
       "With uint8 images, 3 - 5 wraps around to 254. Convert to a signed or float type before subtracting.",
       """
       def compute_distances_two_loops(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           for i in range(num_test):
               for j in range(num_train):
                   dists[i, j] = np.sum(np.abs(X_test[i] - X_train[j]))
           return dists
       """),
    _m("transposed-result", "compute_distances_one_loop", NB3,
       "dists[i, j] is the distance between test point i and training point j: shape (num_test, num_train).",
       """
       def compute_distances_one_loop(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_train, num_test))
           for j in range(num_train):
               dists[j, :] = np.sum(np.abs(X_test.astype(float) - X_train[j]), axis=1)
           return dists
       """),
    _m("sum-over-wrong-axis", "compute_distances_one_loop", NB3,
       "Sum the absolute differences over the features (axis 1 of X_test - X_train[j]), not over the points.",
       """
       def compute_distances_one_loop(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           for i in range(num_test):
               dists[i, :] = np.sum(np.abs(X_train.astype(float) - X_test[i]), axis=1).sum()
           return dists
       """),
    _m("two-loops-in-one-loop", "compute_distances_one_loop", NB3,
       "compute_distances_one_loop may use exactly one loop; vectorize the inner loop over the training points.",
       """
       def compute_distances_one_loop(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           for i in range(num_test):
               for j in range(num_train):
                   dists[i, j] = np.sum(np.abs(X_test[i].astype(float) - X_train[j]))
           return dists
       """, kind="rule"),
    _m("loop-in-no-loops", "compute_distances_no_loops", NB3,
       "compute_distances_no_loops may not use any loop (for, while, comprehension, map, np.vectorize, "
       "np.apply_along_axis): use broadcasting.",
       """
       def compute_distances_no_loops(X_test, X_train):
           num_test, num_train = X_test.shape[0], X_train.shape[0]
           dists = np.zeros((num_test, num_train))
           dists = np.array([np.sum(np.abs(X_train.astype(float) - row), axis=1) for row in X_test])
           return dists
       """, kind="rule"),
    _m("not-numpy-only", "compute_distances_no_loops", NB3,
       "Use numpy only: scipy's cdist (or any other library's distance function) is not allowed here.",
       """
       def compute_distances_no_loops(X_test, X_train):
           from scipy.spatial.distance import cdist
           dists = np.zeros((X_test.shape[0], X_train.shape[0]))
           dists = cdist(X_test, X_train, "cityblock")
           return dists
       """, kind="rule"),
    _m("uint8-wraparound", "compute_distances_no_loops", NB3,
       "With uint8 images, 3 - 5 wraps around to 254. Convert to a signed or float type before subtracting.",
       """
       def compute_distances_no_loops(X_test, X_train):
           dists = np.zeros((X_test.shape[0], X_train.shape[0]))
           dists = np.abs(X_test[:, None, :] - X_train[None, :, :]).sum(axis=2)
           return dists
       """),
    _m("modified-input", "compute_distances_no_loops", NB3,
       "Your function changed its input arrays; compute on copies (or new arrays) and leave X_test and X_train as they were.",
       """
       def compute_distances_no_loops(X_test, X_train):
           dists = np.zeros((X_test.shape[0], X_train.shape[0]))
           X_test -= 0
           X_test[...] = X_test[:, ::-1][:, ::-1]
           X_train *= 1
           X_train[:] = np.sort(X_train, axis=1)
           dists = np.abs(X_test[:, None, :].astype(float) - X_train[None, :, :]).sum(axis=2)
           return dists
       """, kind="rule"),
    # ---------------------------------------------------------------- problem 4
    _m("norm-not-squared", "q4_f", NB4,
       "f is the squared norm: the sum of the squares of Wx, without a square root.",
       """
       q4_f = 0.34058772731852804
       """),
    _m("transposed-gradient", "q4_dW", NB4,
       "dW has the shape of W and dW[i, j] = 2 (Wx)_i x_j: it is 2 (Wx) x^T, not its transpose.",
       """
       q4_dW = [[0.088, 0.104], [0.176, 0.208]]
       """),
    _m("missing-factor-2", "q4_dW", NB4,
       "The derivative of q_i^2 is 2 q_i: do not drop the factor 2.",
       """
       q4_dW = [[0.044, 0.088], [0.052, 0.104]]
       """),
    _m("w-not-transposed", "q4_dx", NB4,
       "dx = W^T dq: the gradient flows back through W transposed.",
       """
       q4_dx = [0.304, 0.284]
       """),
    _m("missing-factor-2", "q4_dx", NB4,
       "The derivative of q_i^2 is 2 q_i: do not drop the factor 2.",
       """
       q4_dx = [-0.056, 0.318]
       """),
    _m("norm-not-squared", "forward", NB4,
       "f is the squared norm ||Wx||^2 = sum of (Wx)_i^2, not the norm itself.",
       """
       def forward(W, x):
           q = W @ x
           f = np.sqrt(np.sum(q ** 2))
           return f, (W, x, q)
       """),
    _m("transposed-gradient", "backward", NB4,
       "dW has the shape of W and dW[i, j] = dq_i x_j: it is np.outer(dq, x), not np.outer(x, dq).",
       """
       def backward(cache, df=1.0):
           W, x, q = cache
           dq = 2 * q * df
           return np.outer(x, dq), W.T @ dq
       """),
    _m("missing-factor-2", "backward", NB4,
       "The local gradient of q_i^2 is 2 q_i: do not drop the factor 2.",
       """
       def backward(cache, df=1.0):
           W, x, q = cache
           dq = q * df
           return np.outer(dq, x), W.T @ dq
       """),
    _m("ignored-upstream-gradient", "backward", NB4,
       "Multiply by the upstream gradient df (chain rule); it is not always 1.",
       """
       def backward(cache, df=1.0):
           W, x, q = cache
           dq = 2 * q
           return np.outer(dq, x), W.T @ dq
       """),
    _m("w-not-transposed", "backward", NB4,
       "dx = W^T dq: the gradient flows back through W transposed.",
       """
       def backward(cache, df=1.0):
           W, x, q = cache
           dq = 2 * q * df
           return np.outer(dq, x), W @ dq
       """),
    _m("transposed-gradient", "grad_W_closed_form", NB4,
       "grad_W f = 2 (Wx) x^T has the shape of W with entry [i, j] = 2 (Wx)_i x_j; yours is its transpose.",
       """
       def grad_W_closed_form(W, x):
           return 2 * np.outer(x, W @ x)
       """),
    _m("missing-factor-2", "grad_W_closed_form", NB4,
       "The derivative of ||Wx||^2 has a factor 2: grad_W f = 2 (Wx) x^T.",
       """
       def grad_W_closed_form(W, x):
           return np.outer(W @ x, x)
       """),
    _m("w-not-transposed", "grad_x_closed_form", NB4,
       "grad_x f = 2 W^T W x: the first W is transposed.",
       """
       def grad_x_closed_form(W, x):
           return 2 * W @ W @ x
       """),
    _m("missing-factor-2", "grad_x_closed_form", NB4,
       "The derivative of ||Wx||^2 has a factor 2: grad_x f = 2 W^T W x.",
       """
       def grad_x_closed_form(W, x):
           return W.T @ W @ x
       """),
)


def for_answer(answer: str) -> tuple[Mistake, ...]:
    """The catalogued mistakes of one answer name."""
    return tuple(m for m in CATALOGUE if m.answer == answer)


def by_slug(slug: str, answer: str) -> Mistake:
    """The mistake ``slug`` of ``answer``; KeyError if it is not catalogued."""
    for m in CATALOGUE:
        if m.slug == slug and m.answer == answer:
            return m
    raise KeyError(f"no mistake {slug!r} for {answer!r}")
