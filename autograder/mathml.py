"""Maths in feedback that renders offline: LaTeX in markdown cells becomes MathML.

nbgrader's feedback page loads MathJax from a CDN, so a student who opens their feedback
offline (or behind a firewall) sees raw ``$\\frac{W - F + 2P}{S} + 1$``. Browsers render
MathML themselves, so :class:`MathToMathML` converts each ``$...$`` / ``$$...$$`` (and
``\\(...\\)`` / ``\\[...\\]``) of a markdown cell into a ``<math>`` element with
`latex2mathml <https://pypi.org/project/latex2mathml/>`_, and the course's feedback template
(``autograder/templates/feedback_offline``) loads no MathJax at all.

Code spans and fenced code blocks are left alone (a ``$`` there is code, not maths). A
formula latex2mathml cannot read stays as it was written. The MathML is passed through nh3
with an allow-list of presentation-MathML elements and no ``href`` (latex2mathml turns
``\\href`` into a link), because written answers are the student's own text.
"""
from __future__ import annotations

import re
from typing import Optional

import nh3
from latex2mathml.converter import convert
from nbgrader.preprocessors import NbGraderPreprocessor

# Fenced code blocks and inline code spans: copied through untouched.
_CODE = re.compile(r"(^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\2[ \t]*$|`+[^`\n]*`+)", re.MULTILINE | re.DOTALL)
# Display maths first, so "$$x$$" is not read as two empty inline formulas around "x".
_MATH = re.compile(
    r"(?<!\\)\$\$(?P<d1>.+?)(?<!\\)\$\$"
    r"|\\\[(?P<d2>.+?)\\\]"
    r"|\\\((?P<i2>.+?)\\\)"
    r"|(?<![\\$])\$(?P<i1>[^$\n]+?)(?<!\\)\$(?!\$)",
    re.DOTALL)

_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "menclose", "mfenced",
    "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "semantics",
    "annotation",
}
_MATHML_ATTRIBUTES = {"*": {
    "xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
    "minsize", "maxsize", "movablelimits", "accent", "accentunder", "linethickness", "width",
    "height", "depth", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "displaystyle", "scriptlevel", "notation", "open", "close",
    "separators", "form", "symmetric", "largeop", "encoding",
}}


def latex_to_mathml(latex: str, display: bool) -> Optional[str]:
    """One formula as sanitised MathML (``<math ...>...</math>``), or None if unreadable."""
    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of error on malformed input
        return None
    return nh3.clean(mathml, tags=_MATHML_TAGS, attributes=_MATHML_ATTRIBUTES,
                     url_schemes=set(), link_rel=None, strip_comments=True)


def _convert_prose(text: str) -> str:
    def one(match: re.Match) -> str:
        display = match.group("d1") is not None or match.group("d2") is not None
        latex = next(g for g in match.group("d1", "d2", "i2", "i1") if g is not None)
        mathml = latex_to_mathml(latex, display)
        return match.group(0) if mathml is None else mathml

    return _MATH.sub(one, text)


def markdown_with_mathml(source: str) -> str:
    """A markdown cell's source with its formulas (outside code) replaced by MathML."""
    out, last = [], 0
    for code in _CODE.finditer(source):
        out.append(_convert_prose(source[last:code.start()]))
        out.append(code.group(0))
        last = code.end()
    out.append(_convert_prose(source[last:]))
    return "".join(out)


class MathToMathML(NbGraderPreprocessor):
    """Feedback only: LaTeX in markdown cells becomes MathML, so no CDN is needed to read it.

    Runs after :class:`autograder.sanitize.SanitizeOutputs` (the student's markdown is
    already made inert; the MathML added here is sanitised on its own).
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and ("$" in cell.source or "\\(" in cell.source
                                             or "\\[" in cell.source):
            cell.source = markdown_with_mathml(cell.source)
        return cell, resources
