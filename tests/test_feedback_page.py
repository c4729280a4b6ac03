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

import nbformat

from autograder.mathml import MAX_FORMULA_CHARS, latex_to_mathml, markdown_to_html

pytestmark = pytest.mark.nbgrader

def page_text(raw: str) -> str:
    """The text a reader of the page sees (code included): tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


HOSTILE_FORMULA = r"It is $\href{javascript:alert(1)}{x}$ and <a href='javascript:alert(2)'>y</a>."


# --------------------------------------------------------------------------- the renderer
def test_inline_and_display_formulas_become_mathml():
    out = markdown_to_html(r"size $\frac{n - F + 2P}{S} + 1$ and $$f = \|Wx\|^2$$")
    assert out.count("<math") == 2 and "$" not in out
    assert 'display="inline"' in out and 'display="block"' in out
    assert "<mfrac>" in out


def test_dollars_in_code_and_escaped_dollars_stay_as_written():
    out = markdown_to_html("`echo $HOME$` and price \\$3 and\n```\ncost = $5 + $6\n```\n")
    assert "<math" not in out
    assert "<code>echo $HOME$</code>" in out and "price $3" in out and "cost = $5 + $6" in out


def test_a_formula_latex2mathml_cannot_read_stays_as_its_source():
    out = markdown_to_html(r"broken $\frac{$ here")
    assert "<math" not in out and r"\frac{" in out


def test_links_inside_a_formula_are_dropped():
    mathml = latex_to_mathml(r"\href{javascript:alert(1)}{x}", display=False)
    assert "<mi>x</mi>" in mathml and "href" not in mathml and "javascript" not in mathml


def test_a_formula_cannot_close_a_code_span_around_html():
    """The grave accent renders as a backtick: had it been put back into the markdown, it
    would close the code span early and let the <img> after it run."""
    out = markdown_to_html("Answer: `W $\\grave{x}$ <img src=x onerror=alert(1)>\n`")
    assert "<img" not in out and "&lt;img" in out


def test_markdown_inside_a_formulas_text_is_not_a_link():
    out = markdown_to_html(r"See $\text{[the derivation](javascript:alert(document.cookie))}$.")
    assert "<a" not in out and "<mtext>" in out


def test_maths_in_a_heading_stays_mathml():
    """A heading's anchor pass (ElementTree) would rename a namespaced <math> to <ns0:math>."""
    out = markdown_to_html(r"## The output size $\frac{n - F}{S} + 1$")
    assert "<math" in out and "ns0:" not in out and "xmlns" not in out


def test_a_huge_formula_is_shown_as_its_source():
    out = markdown_to_html("$" + "x+" * MAX_FORMULA_CHARS + "x$")
    assert "<math" not in out


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
    # a student's own cell tagged like the worked examples, right after test_q2c
    path = course.submit("tagger", "02_kernel_of_truth")
    nb = nbformat.read(path, as_version=4)
    at = 1 + next(i for i, c in enumerate(nb.cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "test_q2c")
    nb.cells.insert(at, nbformat.v4.new_markdown_cell("MY-OWN-NOTE", metadata={"tags": ["release-only"]}))
    nbformat.write(nb, path)
    course.autograde()
    log = course.generate_feedback()
    no_key = section03_course("feedback-no-key", answer_key=False)
    no_key.submit("key", "02_kernel_of_truth")
    no_key.autograde()
    no_key_log = no_key.generate_feedback()
    return course, log, no_key, no_key_log


def test_feedback_loads_nothing_from_another_host(graded):
    course, *_ = graded
    for notebook in ("01_conv_arithmetic", "02_kernel_of_truth"):
        page = course.feedback_html("key", notebook)
        assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?(https?:)?//", page), notebook
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


def test_a_students_own_tagged_cell_does_not_move_the_handouts_animations(graded):
    course, *_ = graded
    page = page_text(course.feedback_html("tagger", "02_kernel_of_truth"))
    assert page.index("MY-OWN-NOTE") < page.index("play(animate_pool(-A, 3, stride=3, padding=1))") \
        < page.index("From the answer key")
