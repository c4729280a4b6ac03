"""Hidden tests that give every correct style its points, and stubs none (no kernel started)."""
from __future__ import annotations

from tests.test_checks import SOLUTIONS, _grade_notebook

STUB_SHAPE = ("def conv_output_shape(input_shape, F, S=1, P=0, K=1):\n"
              "    raise NotImplementedError()\n")
STUB_SIZE = "def conv_output_size(n, F, S=1, P=0):\n    raise NotImplementedError()\n"


def test_an_untouched_shape_stub_gets_no_carry_forward_from_an_untouched_size_stub():
    failure = _grade_notebook("conv_output_shape",
                              {"conv_output_size": STUB_SIZE, "conv_output_shape": STUB_SHAPE})
    assert failure is not None and "not answered yet" in failure.message


def test_a_size_function_that_always_raises_carries_nothing_forward():
    """A hostile pair: the size function always refuses; the shape functions hard-code the
    visible cases and refuse the rest. Only numbers carry forward."""
    refuse = "def conv_output_size(n, F, S=1, P=0):\n    raise ValueError('no')\n"
    shape = ("def conv_output_shape(input_shape, F, S=1, P=0, K=1):\n"
             "    if (tuple(input_shape), F, S, P, K) == ((32, 32, 3), 5, 1, 0, 1):\n"
             "        return (28, 28, 1)\n    raise ValueError('no')\n")
    assert _grade_notebook("conv_output_shape",
                           {"conv_output_size": refuse, "conv_output_shape": shape}) is not None


def test_a_shape_function_raising_some_other_error_of_the_same_class_is_not_carried_forward():
    crashing = "def conv_output_size(n, F, S=1, P=0):\n    raise TypeError('size broke')\n"
    shape = ("def conv_output_shape(input_shape, F, S=1, P=0, K=1):\n"
             "    raise TypeError('something else')\n")
    assert _grade_notebook("conv_output_shape",
                           {"conv_output_size": crashing, "conv_output_shape": shape}) is not None


def _in_float32(source: str) -> str:
    """The answer key's conv2d computing in float32 throughout."""
    changed = source.replace("dtype=float", "dtype=np.float32").replace(
        "out = np.zeros(((h - kh) // stride + 1, (wd - kw) // stride + 1))",
        "out = np.zeros(((h - kh) // stride + 1, (wd - kw) // stride + 1), dtype=np.float32)")
    assert changed.count("float32") == 3, "the answer key's conv2d changed: update this test"
    return changed


def test_a_conv2d_computing_in_float32_is_correct():
    assert _grade_notebook("conv2d", {"conv2d": _in_float32(SOLUTIONS["conv2d"][1])}) is None


def test_a_float32_conv2d_that_is_wrong_still_fails():
    wrong = _in_float32(SOLUTIONS["conv2d"][1]).replace("return out", "return out * 1.001")
    assert _grade_notebook("conv2d", {"conv2d": wrong}) is not None


FORWARD_DICT_NORM = ("def forward(W, x):\n    q = W @ x\n"
                     "    return np.sqrt(q @ q), {'W': W, 'x': x, 'q': q}\n")  # a catalogued slip in f
BACKWARD_DICT = ("def backward(cache, df=1.0):\n    dq = 2 * cache['q'] * df\n"
                 "    return np.outer(dq, cache['x']), cache['W'].T @ dq\n")


def test_a_dict_cache_backward_keeps_its_points_when_forward_has_a_slip():
    replace = {"forward": FORWARD_DICT_NORM, "backward": BACKWARD_DICT}
    assert _grade_notebook("forward", replace) is not None
    assert _grade_notebook("backward", replace) is None


def test_a_cache_holding_a_made_up_q_carries_nothing_forward():
    """A hostile pair: forward stores q = 0, backward returns zeros (right for that cache)."""
    forward = "def forward(W, x):\n    q = np.zeros(len(x))\n    return 0.0, (W, x, q)\n"
    backward = "def backward(cache, df=1.0):\n    W, x, q = cache\n    return np.zeros_like(W), np.zeros_like(x)\n"
    assert _grade_notebook("backward", {"forward": forward, "backward": backward}) is not None


def test_a_wrong_backward_on_a_dict_cache_still_fails():
    wrong = BACKWARD_DICT.replace("2 * cache", "cache")  # the missing factor 2
    assert _grade_notebook("backward", {"forward": FORWARD_DICT_NORM, "backward": wrong}) is not None
