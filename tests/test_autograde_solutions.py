"""Real `nbgrader autograde` of section03: the answer key, the blank release and correct answers
written in other styles.

One course is graded once per module (about a minute); each test reads one promise off it.
"""
import pytest

from autograder.coursebuild import NOTEBOOKS, graded_cells

pytestmark = pytest.mark.nbgrader

# Correct answers in styles other than the answer key's: each must get full marks.
OTHER_STYLES = {
    "01_conv_arithmetic": {
        "conv_output_size": '''
def conv_output_size(n, F, S=1, P=0):
    if min(n, F, S) < 1 or P < 0 or F > n + 2 * P:
        raise ValueError("sizes must be positive and the filter must fit the padded input")
    size = (n - F + 2 * P) / S + 1
    if not size.is_integer():
        raise ValueError("invalid configuration: (n - F + 2P)/S + 1 = %s" % size)
    return int(size)
''',
        "q1b": "q1b = {(1, 0): [28, 28, 1], (2, 0): None, (3, 0): [10, 10, 1], (2, 3): None, (3, 3): [12, 12, 1]}",
        "q1c": "import numpy as np\nq1c = np.array([55, 55, 96])",
        "q1e": "q1e = np.int64(96) * (11 ** 2 * 3 + 1)",
        "q1f": "q1f = 1150.0",
        "q1h_changes_channels": "q1h_changes_channels = np.bool_(False)",
    },
    "02_kernel_of_truth": {
        "q2a": "q2a = np.array([[5., 3., 1.], [1., 3., 5.], [-5., 7., -1.]])",
        "q2c": "q2c = ((4, 4), (0, 4))",
        "conv2d": '''
from numpy.lib.stride_tricks import sliding_window_view

def conv2d(x, w, stride=1, padding=0):
    w = np.asarray(w, dtype=float)
    xp = np.pad(np.asarray(x, dtype=float), padding)
    for n, k in zip(xp.shape, w.shape):
        if k > n or (n - k) % stride:
            raise ValueError(f"kernel {k} with stride {stride} does not fit {n}")
    windows = sliding_window_view(xp, w.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, w)
''',
        "max_pool2d": '''
from numpy.lib.stride_tricks import sliding_window_view

def max_pool2d(x, size, stride=None, padding=0):
    stride = stride or size
    xp = np.pad(np.asarray(x, dtype=float), padding, constant_values=-np.inf)
    if any(size > n or (n - size) % stride for n in xp.shape):
        raise ValueError("pool window does not tile the padded input")
    return sliding_window_view(xp, (size, size))[::stride, ::stride].max(axis=(2, 3))
''',
    },
    "03_l1_vectorization": {
        "compute_distances_two_loops": '''
def compute_distances_two_loops(X_test, X_train):
    num_test = X_test.shape[0]
    num_train = X_train.shape[0]
    dists = np.zeros((num_test, num_train))
    for i in range(num_test):
        for j in range(num_train):
            total = 0.0
            for k in range(X_test.shape[1]):
                total += abs(float(X_test[i, k]) - float(X_train[j, k]))
            dists[i, j] = total
    return dists
''',
        "compute_distances_one_loop": '''
def compute_distances_one_loop(X_test, X_train):
    num_test = X_test.shape[0]
    num_train = X_train.shape[0]
    dists = np.zeros((num_test, num_train))
    test = X_test.astype(np.int64) if X_test.dtype.kind in "ui" else X_test
    for j in range(num_train):
        dists[:, j] = np.abs(test - X_train[j].astype(test.dtype)).sum(axis=1)
    return dists
''',
        "compute_distances_no_loops": '''
def compute_distances_no_loops(X_test, X_train):
    num_test = X_test.shape[0]
    num_train = X_train.shape[0]
    dists = np.zeros((num_test, num_train))
    dists[:] = np.abs(np.subtract.outer(X_test.astype(float), X_train.astype(float))
                      .diagonal(axis1=1, axis2=3)).sum(axis=-1)
    return dists
''',
    },
    "04_vector_backprop": {
        "q4_q": "q4_q = (0.22, 0.26)",
        "q4_f": "q4_f = 0.11600000000000002",
        "q4_dW": "q4_dW = 2 * np.outer(W @ x, x)",
        "forward": '''
def forward(W, x):
    cache = {"W": W, "x": x, "Wx": np.dot(W, x)}
    return float(np.dot(cache["Wx"], cache["Wx"])), cache
''',
        "backward": '''
def backward(cache, df=1.0):
    dWx = 2.0 * df * cache["Wx"]
    return dWx[:, None] * cache["x"][None, :], np.dot(cache["W"].T, dWx)
''',
        "grad_x_closed_form": "def grad_x_closed_form(W, x):\n    return 2 * np.dot(np.dot(W.T, W), x)",
    },
}


@pytest.fixture(scope="module")
def course(section03_course):
    course = section03_course()
    for notebook in NOTEBOOKS:
        course.submit("key", notebook)
        course.submit("blank", notebook, solved=False)
        course.submit("styles", notebook, OTHER_STYLES[notebook])
    course.autograde()
    return course


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_answer_key_gets_full_marks_on_every_autograded_cell(course, notebook):
    assert course.scores("key", notebook) == graded_cells(notebook)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_untouched_release_scores_zero_on_every_autograded_cell(course, notebook):
    scores = course.scores("blank", notebook)
    assert set(scores) == set(graded_cells(notebook))
    assert all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_correct_answers_in_other_styles_get_full_marks(course, notebook):
    assert course.scores("styles", notebook) == graded_cells(notebook)


@pytest.mark.parametrize("student", ["key", "styles"])
@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_correct_answers_write_nothing_to_stderr(course, student, notebook):
    assert course.stderr_cells(student, notebook) == []


def test_blank_submission_feedback_says_the_answer_is_missing(course):
    # the grader's own verdict, not just the stub's NotImplementedError from the visible test
    assert "not answered yet" in course.error_text("blank", "02_kernel_of_truth", "test_conv2d")
