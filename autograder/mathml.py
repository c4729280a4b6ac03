"""Maths in feedback that renders offline: LaTeX in markdown cells is rendered as MathML.

nbgrader's feedback page loads MathJax from a CDN, so a student who opens their feedback
offline (or behind a firewall) sees raw ``$\\frac{W - F + 2P}{S} + 1$``. Browsers render
MathML themselves. :class:`FeedbackHTMLExporter` (``GenerateFeedback.exporter_class`` in
``nbgrader_config.py``) is nbconvert's HTML exporter whose markdown renderer turns each
formula the markdown parser finds (``$...$``, ``$$...$$``, LaTeX environments) into MathML
with `latex2mathml <https://pypi.org/project/latex2mathml/>`_, and the course's template
folder ``autograder/templates/feedback`` loads no MathJax at all.

The conversion happens *while rendering*, on the formulas of the same mistune parse that
:func:`autograder.sanitize.clean_markdown` audited, and its output is final HTML: nothing
a formula turns into is read as markdown again (editing the markdown source instead would
let a formula's output close a code span or form a link around it). The MathML is passed
through nh3 with an allow-list of presentation-MathML elements and no ``href``
(latex2mathml turns ``\\href`` into a link), because written answers are the student's own
text. A formula latex2mathml cannot read is shown as its LaTeX source.
"""
from __future__ import annotations

from typing import Optional

import nh3
from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mstyle", "mpadded", "mphantom", "menclose", "mfenced",
    "munder", "mover", "munderover", "mtable", "mtr", "mtd", "mlabeledtr",
}
# No ``xmlns``: in HTML the parser puts <math> in the MathML namespace itself, and a heading's
# anchor pass (ElementTree) would turn the attribute into an "ns0:" prefix browsers ignore.
_MATHML_ATTRIBUTES = {"*": {
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
    "minsize", "maxsize", "movablelimits", "accent", "accentunder", "linethickness", "width",
    "height", "depth", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines",
    "rowlines", "frame", "displaystyle", "scriptlevel", "notation", "open", "close",
    "separators", "form", "symmetric", "largeop",
}}
# A formula longer than this is shown as its source: converting it costs more than it helps.
MAX_FORMULA_CHARS = 5000


def latex_to_mathml(latex: str, display: bool) -> Optional[str]:
    """One formula as sanitised MathML (``<math ...>...</math>``), or None if unreadable."""
    if len(latex) > MAX_FORMULA_CHARS:
        return None
    try:
        mathml = convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of error on malformed input
        return None
    return nh3.clean(mathml, tags=_MATHML_TAGS, attributes=_MATHML_ATTRIBUTES,
                     url_schemes=set(), link_rel=None, strip_comments=True)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer with formulas rendered as MathML instead of left for MathJax."""

    def inline_math(self, body: str) -> str:
        return latex_to_mathml(body, display=False) or super().inline_math(body)

    def block_math(self, body: str) -> str:
        return latex_to_mathml(body, display=True) or super().block_math(body)

    def latex_environment(self, name: str, body: str) -> str:
        latex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return latex_to_mathml(latex, display=True) or super().latex_environment(name, body)


def markdown_to_html(source: str, **renderer_options) -> str:
    """A markdown cell as feedback shows it: nbconvert's rendering, maths as MathML."""
    return MarkdownWithMath(renderer=MathMLRenderer(escape=False, **renderer_options)).render(source)


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter (configured as ``HTMLExporter``) rendering maths as MathML."""

    @pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        return markdown_to_html(
            source,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
