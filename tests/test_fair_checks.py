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


def test_a_shape_function_raising_like_its_crashing_size_function_is_carried_forward():
    crashing = ("def conv_output_size(n, F, S=1, P=0):\n"
                "    return int('%d' % ((n - F + 2 * P) / S + 1)) if n < 1000 else None.x\n")
    shape = ("def conv_output_shape(input_shape, F, S=1, P=0, K=1):\n"
             "    W, H, C = input_shape\n"
             "    return (conv_output_size(W, F, S, P), conv_output_size(H, F, S, P), K)\n")
    # the size function is wrong (no validation); the shape function is right for it
    assert _grade_notebook("conv_output_size", {"conv_output_size": crashing}) is not None
    assert _grade_notebook("conv_output_shape",
                           {"conv_output_size": crashing, "conv_output_shape": shape}) is None


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


FORWARD_DICT_WRONG_Q = ("def forward(W, x):\n    q = W.T @ x\n"
                        "    return q @ q, {'W': W, 'x': x, 'q': q}\n")
BACKWARD_DICT = ("def backward(cache, df=1.0):\n    dq = 2 * cache['q'] * df\n"
                 "    return np.outer(dq, cache['x']), cache['W'].T @ dq\n")


def test_a_dict_cache_backward_keeps_its_points_when_forward_computed_q_wrong():
    replace = {"forward": FORWARD_DICT_WRONG_Q, "backward": BACKWARD_DICT}
    assert _grade_notebook("forward", replace) is not None
    assert _grade_notebook("backward", replace) is None


def test_a_wrong_backward_on_a_dict_cache_still_fails():
    wrong = BACKWARD_DICT.replace("2 * cache", "cache")  # the missing factor 2
    assert _grade_notebook("backward", {"forward": FORWARD_DICT_WRONG_Q, "backward": wrong}) is not None
