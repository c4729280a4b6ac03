"""The feedback page a student gets after grading: readable offline, and it teaches.

* maths is MathML (no MathJax, no CDN), long messages wrap;
* the handout's own animations (the answer key's ``answer-key-only`` cells) follow the worked
  examples once the work is graded, and a course without an answer key still gets feedback;
* a student's written answer cannot smuggle a link in through a formula.

One section03 course is graded and given feedback once per module; each test reads one
promise off it.
"""
import html
import re

import pytest

from autograder.mathml import latex_to_mathml, markdown_with_mathml

pytestmark = pytest.mark.nbgrader

def page_text(raw: str) -> str:
    """The text a reader of the page sees (code included): tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


HOSTILE_FORMULA = r"It is $\href{javascript:alert(1)}{x}$ and <a href='javascript:alert(2)'>y</a>."


# --------------------------------------------------------------------------- the converter
def test_inline_and_display_formulas_become_mathml():
    out = markdown_with_mathml(r"size $\frac{n - F + 2P}{S} + 1$ and $$f = \|Wx\|^2$$")
    assert out.count("<math") == 2 and "$" not in out
    assert 'display="inline"' in out and 'display="block"' in out
    assert "<mfrac>" in out


def test_dollars_in_code_and_escaped_dollars_stay_as_written():
    source = "`echo $HOME$` and\n```\ncost = $5 + $6\n```\nprice \\$3"
    assert markdown_with_mathml(source) == source


def test_a_formula_latex2mathml_cannot_read_stays_as_written():
    assert markdown_with_mathml(r"broken $\frac{$ here") == r"broken $\frac{$ here"


def test_links_inside_a_formula_are_dropped():
    mathml = latex_to_mathml(r"\href{javascript:alert(1)}{x}", display=False)
    assert "<mi>x</mi>" in mathml and "href" not in mathml and "javascript" not in mathml


# --------------------------------------------------------------------------- the graded course
@pytest.fixture(scope="module")
def graded(section03_course):
    course = section03_course("feedback")
    course.submit("key", "01_conv_arithmetic")
    course.submit("key", "02_kernel_of_truth")
    # a padding slip in conv2d: its verdict is one long line
    course.submit("slip", "02_kernel_of_truth", {"conv2d": (
        "import numpy as np\n"
        "def conv2d(x, w, stride=1, padding=0):\n"
        "    x = np.asarray(x, dtype=float)\n"
        "    w = np.asarray(w, dtype=float)\n"
        "    out = np.zeros(((x.shape[0] - w.shape[0]) // stride + 1,"
        " (x.shape[1] - w.shape[1]) // stride + 1))\n"
        "    for i in range(out.shape[0]):\n"
        "        for j in range(out.shape[1]):\n"
        "            out[i, j] = np.sum(x[i*stride:i*stride+w.shape[0], j*stride:j*stride+w.shape[1]] * w)\n"
        "    return out\n")})
    course.submit("writer", "01_conv_arithmetic", {"q1a": HOSTILE_FORMULA})
    course.autograde()
    log = course.generate_feedback()
    no_key = section03_course("feedback-no-key", answer_key=False)
    no_key.submit("key", "02_kernel_of_truth")
    no_key.autograde()
    no_key_log = no_key.generate_feedback()
    return course, log, no_key, no_key_log


def test_feedback_loads_no_script_from_another_host(graded):
    course, *_ = graded
    for notebook in ("01_conv_arithmetic", "02_kernel_of_truth"):
        page = course.feedback_html("key", notebook)
        assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page), notebook
        assert "cdnjs" not in page and "MathJax.Hub" not in page


def test_feedback_maths_is_mathml(graded):
    course, *_ = graded
    page = course.feedback_html("key", "01_conv_arithmetic")
    assert page.count("<math") >= 10
    # the output-size formula of the reference material, not its LaTeX
    assert "<mfrac>" in page and r"\frac" not in page


def test_feedback_messages_wrap(graded):
    course, *_ = graded
    page = course.feedback_html("slip", "02_kernel_of_truth")
    assert "white-space: pre-wrap" in page
    assert "HiddenTestFailed" in page  # the long verdict the rule is for is on the page


def test_feedback_shows_the_handouts_animations_after_the_worked_examples(graded):
    course, *_ = graded
    raw = course.feedback_html("key", "02_kernel_of_truth")
    page = page_text(raw)
    example = page.index("play(animate_pool(-A, 3, stride=3, padding=1))")
    heading = page.index("From the answer key")
    handout = page.index("play(animate_conv(I, F, stride=1, padding=0))")
    next_task = page.index("def conv2d(")
    assert example < heading < handout < next_task
    # the animations themselves (matplotlib's HTML players) for (a), (b), (c), not only code
    players = [m.start() for m in re.finditer('class="animation"', raw)]
    assert len(players) >= 3 and min(players) > raw.index("From the answer key")


def test_feedback_without_an_answer_key_is_still_written_and_says_why(graded):
    _, _, no_key, log = graded
    page = page_text(no_key.feedback_html("key", "02_kernel_of_truth"))
    assert "From the answer key" not in page and "def conv2d(" in page
    assert "no answer key pictures in feedback" in log and "generate_solution" in log


def test_a_formula_in_a_written_answer_cannot_carry_a_link(graded):
    course, *_ = graded
    page = course.feedback_html("writer", "01_conv_arithmetic")
    # no live link with a script (the student's own <a> shows as escaped text)
    assert not re.search(r"<[a-z]+[^<>]*href\s*=\s*[\"']?\s*javascript:", page, re.IGNORECASE)
    assert "alert(1)" not in page and "<mi>x</mi>" in page
