"""Make student-written content inert before TAs and students see it in a browser.

The autograded notebook is rendered by nbconvert twice: as the submission view of
formgrader and as the feedback HTML (``nbgrader generate_feedback``). Neither sanitises
what the student wrote, so a student's code cell could emit ``display(HTML('<script>...'))``
and a written answer could carry ``<img src=x onerror=...>``, and both would run in the TA's
browser (logged in to formgrader) and in their own feedback page. ``SanitizeOutputs`` removes
every way in that a notebook offers, and nothing else:

Outputs of every code cell
    ``text/html`` goes through ``nh3`` (the Rust ``ammonia`` sanitiser) with the allow-list
    below: tables, text formatting, ``img`` with a ``data:image/...`` source only, links to
    http/https/mailto only, ``style`` limited to a few properties and never a ``url(...)``; no
    script, event handler, iframe, object, embed, form or SVG survives. Every mime type
    containing ``javascript`` and ``image/svg+xml`` is dropped (a PNG or text alternative in
    the same bundle stays); ``text/markdown`` is cleaned like a markdown cell (see below: a
    markdown link to ``javascript:`` is no HTML tag, so an HTML sanitiser would miss it);
    ``text/vnd.mermaid`` (written unescaped into the page) is dropped if it holds a tag.
    A matplotlib ``to_jshtml()`` animation (a script-driven player) becomes the note
    ``ANIMATION_NOTE``; a bundle left without anything worth showing becomes ``SCRIPT_NOTE``.
    ``text/plain``, ``image/png``, ``image/jpeg``, ``text/latex``, ``application/json``,
    widget views and error tracebacks are kept as they are: nbconvert escapes them. Output
    metadata that templates write into tags unquoted or as URLs (``width``/``height`` that are
    not numbers, ``filenames``, ``isolated``) is removed, and so is a non-integer
    ``execution_count`` (printed unescaped in the prompt).

Markdown written by students
    Markdown cells that nbgrader does not overwrite from the instructor's copy (written
    answers, ``solution: true``, and cells without grading metadata, e.g. added by a student:
    everything but ``nbgrader.utils.is_locked`` cells) and ``text/markdown`` outputs.
    See ``clean_markdown``: it asks the markdown parser nbconvert itself uses what it would
    pass through as raw HTML or as link targets, and changes the source only where that is
    unsafe, so ordinary markdown is left byte for byte. Attachments whose type is SVG, HTML
    or JavaScript are dropped (from every markdown and raw cell).

Notebook metadata
    The ipywidgets state (``metadata.widgets``) is dropped: nbconvert embeds it with a widget
    manager that renders an ``HTML`` widget's value as markup.

The preprocessor is idempotent, leaves content that is already safe unchanged, and does not
raise on malformed outputs: what it cannot read is removed rather than shown.
"""
from __future__ import annotations

import base64
import bisect
import html as _html
import re
from typing import Any, Optional

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

SCRIPT_NOTE = "[output removed by the grader: scripts are not shown]"
ANIMATION_NOTE = "[animation removed from the graded copy]"
#: the longest HTML output that is cleaned and shown (longer: a note instead)
MAX_HTML_CHARS = 200_000
HTML_TOO_LONG_NOTE = "[an HTML output of {:,} characters, too long to show safely, was left out]"
MARKDOWN_NOTE = (
    "*[shown as plain text by the grader: this cell held HTML or a link that could not be "
    "made inert]*"
)

# --------------------------------------------------------------------------- allow-list
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
    "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "tt", "u", "ul", "var", "wbr",
})
# Removed together with their content (everything else not allowed keeps its text).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
    "noembed", "noframes", "template", "svg", "math", "textarea", "select", "xmp", "title",
})
ATTRIBUTES = {
    "*": {"title", "align", "valign", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"border"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start"},
    "details": {"open"},
}
# ``class`` only as pandas' ``<table class="dataframe">`` (the page's CSS styles it).
ALLOWED_CLASSES = {"table": {"dataframe"}}
STYLE_PROPERTIES = frozenset({
    "text-align", "vertical-align", "color", "background-color", "font-weight", "font-style",
    "font-size", "text-decoration", "text-transform", "white-space", "line-height", "width",
    "height", "min-width", "max-width", "padding", "padding-left", "padding-right",
    "padding-top", "padding-bottom", "margin", "margin-left", "margin-right", "margin-top",
    "margin-bottom", "border", "border-left", "border-right", "border-top", "border-bottom",
    "border-color", "border-width", "border-style", "border-collapse", "border-spacing",
})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_ATTACHMENT = re.compile(r"^attachment:[^\s\"'<>]+$")
_NUMBER = re.compile(r"^\d{1,5}$")
_LENGTH = re.compile(r"^\d{1,5}(?:\.\d+)?(?:%|px)?$")
_WORD = re.compile(r"^[A-Za-z]{1,16}$")
_STYLE_VALUE = re.compile(r"^[\w\s#%.,()+\-]*$")
_STYLE_BAD = re.compile(r"url|expression|image|var\s*\(|env\s*\(|attr\s*\(|@|\\", re.I)


# nbconvert's templates pass rendered markdown through ``strip_files_prefix``, which turns
# ``href="files/x"`` into ``href="x"`` after this module has judged it: a URL is judged as the
# browser will get it, with that prefix gone.
_FILES_PREFIX = re.compile(r"^(?:/?files/)+")


def _as_served(url: str) -> str:
    """``url`` (an attribute value, entities decoded) as the browser gets it."""
    return _FILES_PREFIX.sub("", _CONTROL.sub("", url))


def _url_scheme(url: str) -> Optional[str]:
    """The scheme a browser sees in ``url`` (an attribute value, entities decoded), or None."""
    m = _SCHEME.match(_as_served(url))
    return m.group(1).lower() if m else None


def _style_ok(value: str) -> bool:
    if _STYLE_BAD.search(value):
        return False
    for declaration in value.split(";"):
        if not declaration.strip():
            continue
        prop, sep, val = declaration.partition(":")
        if not sep or prop.strip().lower() not in STYLE_PROPERTIES or not _STYLE_VALUE.match(val):
            return False
    return True


def _attribute_ok(tag: str, attr: str, value: str, markdown: bool = False) -> bool:
    """May ``attr="value"`` (decoded) stay on ``<tag>``? One policy for outputs and markdown."""
    if attr == "href":
        return tag == "a" and _url_scheme(value) in LINK_SCHEMES
    if attr == "src":
        value = _as_served(value)
        return tag == "img" and bool(
            _DATA_IMAGE.match(value) or (markdown and _ATTACHMENT.match(value)))
    if attr == "style":
        return _style_ok(value)
    if attr in ("width", "height"):
        return bool(_LENGTH.match(value.strip()))
    if attr in ("colspan", "rowspan", "span", "start", "border"):
        return bool(_NUMBER.match(value.strip()))
    if attr in ("align", "valign"):
        return bool(_WORD.match(value.strip()))
    if attr == "class":
        return not markdown and tag == "table"  # nh3 keeps only the classes in ALLOWED_CLASSES
    return attr in ("title", "alt", "open")


def _nh3_attribute_filter(tag: str, attr: str, value: str) -> Optional[str]:
    try:
        if attr == "style":  # nh3 keeps only STYLE_PROPERTIES; refuse url() and the like
            return None if _STYLE_BAD.search(value) else value
        return value if _attribute_ok(tag, attr, value) else None
    except Exception:  # never let a callback error keep an attribute
        return None


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROPPED_WITH_CONTENT),
    attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
    attribute_filter=_nh3_attribute_filter,
    allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
    filter_style_properties=set(STYLE_PROPERTIES),
    url_schemes={"http", "https", "mailto", "data"},  # data: only survives as an img src
    url_relative="deny",
    strip_comments=True,
    link_rel="noopener noreferrer",
)


def clean_html(text: str) -> str:
    """``text`` (an HTML fragment) with only the allow-listed markup left."""
    return _CLEANER.clean(text)


# --------------------------------------------------------------------------- markdown
_TAGLIKE = re.compile(r"<(?=[A-Za-z/!?])")  # where a browser may start markup
_STRICT_TAG = re.compile(
    r"""<(?P<end>/)?(?P<name>[A-Za-z][A-Za-z0-9]*)
        (?P<attrs>(?:\s+[A-Za-z][-A-Za-z0-9_:.]*(?:\s*=\s*(?:"[^"<>`]*"|'[^'<>`]*'|[^\s"'=<>`]+))?)*)
        \s*(?P<slash>/?)>""",
    re.X,
)
_STRICT_ATTR = re.compile(
    r"""\s+(?P<name>[A-Za-z][-A-Za-z0-9_:.]*)"""
    r"""(?:\s*=\s*(?P<value>"[^"<>`]*"|'[^'<>`]*'|[^\s"'=<>`]+))?""")
_MAX_REPAIRS = 400
_MAX_REPAIR_WORK = 2_000_000  # candidates x characters parsed, about 2 s at worst


def _tag_ok(text: str, pos: int) -> bool:
    """Is the markup starting at ``text[pos] == '<'`` one allowed tag, written unambiguously?"""
    m = _STRICT_TAG.match(text, pos)
    if not m:
        return False  # comments, doctypes, unterminated or odd tags: all shown as text
    name = m.group("name").lower()
    if name not in ALLOWED_TAGS:
        return False
    if m.group("end"):
        return not m.group("attrs") and not m.group("slash")
    allowed = ATTRIBUTES["*"] | ATTRIBUTES.get(name, set())
    for attr in _STRICT_ATTR.finditer(m.group("attrs")):
        attr_name = attr.group("name").lower()
        value = attr.group("value") or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        if attr_name not in allowed:
            return False
        if not _attribute_ok(name, attr_name, _html.unescape(value), markdown=True):
            return False
    return True


def _unsafe_markup(raw: str) -> int:
    """How many places in ``raw`` (HTML the page receives verbatim) start disallowed markup."""
    return sum(1 for m in _TAGLIKE.finditer(raw) if not _tag_ok(raw, m.start()))


class _Audit(IPythonRenderer):
    """nbconvert's markdown renderer, reporting what it would hand the browser unescaped.

    Everything it renders is escaped except raw HTML (``block_html``, ``inline_html``), the
    body of a ``mermaid`` fence (``block_mermaidjs``) and link/image targets (nbconvert allows
    every URL scheme). Those are scored; the rendered HTML is thrown away.
    """

    def __init__(self):
        super().__init__(escape=False)
        self.risk = 0

    def block_html(self, html: str) -> str:
        self.risk += _unsafe_markup(html)
        return ""

    def inline_html(self, html: str) -> str:
        self.risk += _unsafe_markup(html)
        return ""

    def block_code(self, code: str, info: Optional[str] = None) -> str:
        # Same test as IPythonRenderer.block_code; other code is escaped (skip pygments).
        if info and info.startswith("mermaid"):
            return self.block_mermaidjs(code)
        return ""

    def block_mermaidjs(self, code: str) -> str:
        self.risk += _unsafe_markup(code)
        return ""

    def link(self, text: str, url: str, title: Optional[str] = None) -> str:
        # mistune writes the target as escape(unescape(url)): the browser sees unescape(url).
        for candidate in (url, _html.unescape(url)):
            scheme = _url_scheme(candidate)
            if scheme is not None and scheme not in LINK_SCHEMES:
                self.risk += 1
                break
        return text

    def image(self, text: str, url: str, title: Optional[str] = None) -> str:
        # An image loads as soon as the page opens: only the cell's own attachments, inline
        # data images and relative paths, never another host (a web image would tell its
        # owner when the TA or the student opens the page).
        for candidate in (url, _html.unescape(url)):
            served = _as_served(candidate)
            if _DATA_IMAGE.match(served) or _ATTACHMENT.match(served):
                continue
            # a browser reads "\\" as "/" in a URL: "/\\host" loads from another host too
            if _url_scheme(served) is not None or served.replace("\\", "/").startswith("//"):
                self.risk += 1
                break
        return ""


# nbconvert's maths rules scan lazily from an opener to the next closer of its kind, or to the
# end of the text when none follows: a cell of unclosed openers costs (length x openers) to
# parse -- 60k characters of "\\(" take 11 s. A cell is parsed only while that estimate stays
# under a budget, else it is shown quoted, unparsed. Written answers are far below it: closed
# formulas cost only their own length.
_MATH_PAIRS = (("$$", "$$"), ("$", "$"), ("\\\\(", "\\\\)"), ("\\\\[", "\\\\]"),
               ("\\begin{", "\\end{"))
MAX_PARSE_COST = 8_000_000  # about 0.15 s of the worst kind


def _positions(source: str, needle: str) -> list[int]:
    found, at = [], source.find(needle)
    while at != -1:
        found.append(at)
        at = source.find(needle, at + 1)
    return found


def parse_cost(source: str) -> int:
    """An upper estimate of the characters mistune's maths rules scan in ``source``: the
    length, plus for every opener the distance to the next closer of its kind (or the end)."""
    n, cost = len(source), len(source)
    for opener, closer in _MATH_PAIRS:
        closers = _positions(source, closer)
        for at in _positions(source, opener):
            nxt = bisect.bisect_right(closers, at + len(opener) - 1 + (opener == closer))
            cost += (closers[nxt] if nxt < len(closers) else n) - at
    return cost


def markdown_risk(source: str) -> int:
    """0 when nbconvert would render ``source`` without any active content, else a count."""
    renderer = _Audit()
    try:
        MarkdownWithMath(renderer=renderer).render(source)
    except Exception:
        return 1_000_000
    return renderer.risk


# One-character repairs, each turning a construct into text. First pass: '<' that could
# open a tag. Second pass, for links and images: '[' and the '(' of '](', then ':' and '&'
# that make a URL's scheme (directly or through an entity) where those do not reach.
_REPAIR_PASSES = (_TAGLIKE, re.compile(r"\[|(?<=\])\(|[:&]"))
_REPAIR = {"<": "&lt;", "[": "\\[", "(": "\\(", ":": "%3A", "&": "%26"}
_QUICK = re.compile(r"[<:&]|!\[")  # what can make raw HTML, a URL scheme or an image


def _quote(source: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    body = source if source.endswith("\n") else source + "\n"
    return f"{MARKDOWN_NOTE}\n\n{fence}\n{body}{fence}\n"


def clean_markdown(source: str) -> str:
    """``source`` with its raw HTML and script links made inert, otherwise unchanged.

    Markdown is not HTML: running an HTML sanitiser over it would escape ``>`` quotes,
    mangle ``$a<b$`` and strip ``<script>`` shown in code spans and fences. And which ``<``
    starts raw HTML depends on markdown's own rules (a code span can look closed to a
    reader while a ``<script>`` line still starts an HTML block inside it). So the decision
    is left to the parser that renders it: ``markdown_risk`` runs nbconvert's own mistune
    setup and scores what it would pass to the browser verbatim -- raw HTML that is not a
    strictly written allow-listed tag, mermaid bodies with such tags, link or image targets
    with another scheme than http/https/mailto, images other than ``attachment:``,
    ``data:image`` and relative paths (URLs judged as served, after nbconvert's
    ``strip_files_prefix``).

    A source scoring 0 is returned unchanged (everything ordinary students write). Otherwise
    one-character repairs are tried left to right -- first ``<`` to ``&lt;``, then ``[`` and
    the ``(`` of ``](`` to ``\\[`` and ``\\(``, ``:`` to ``%3A``, ``&`` to ``%26`` -- and each
    is kept only if the parser's score drops, so only the offending tags and links change,
    and they show as literal text (the TA sees what was attempted). If that does not reach
    0, the whole cell is shown as a fenced code block under a note.
    """
    if not isinstance(source, str):
        return source
    if parse_cost(source) > MAX_PARSE_COST:
        return _quote(source)  # inert by construction: a fence no line inside can close
    if not _QUICK.search(source):
        return source
    risk = markdown_risk(source)
    if risk == 0:
        return source
    text = source
    for pattern in _REPAIR_PASSES:
        candidates = [m.start() for m in pattern.finditer(text)]
        if len(candidates) > _MAX_REPAIRS or len(candidates) * parse_cost(text) > _MAX_REPAIR_WORK:
            break  # each candidate costs one parse: too big a cell is quoted instead
        shift = 0
        for pos in candidates:
            at = pos + shift
            repl = _REPAIR[text[at]]
            trial = text[:at] + repl + text[at + 1:]
            trial_risk = markdown_risk(trial)
            if trial_risk < risk:
                text, risk = trial, trial_risk
                shift += len(repl) - 1
                if risk == 0:
                    return text
    quoted = _quote(source)
    return quoted if markdown_risk(quoted) == 0 else MARKDOWN_NOTE + "\n"


# --------------------------------------------------------------------------- outputs
_ANIMATION = re.compile(r'_anim_img|class="anim-controls"|new Animation\(')
_GENERIC_REPR = re.compile(r"^\s*<IPython\.core\.display\.\w+ object>\s*$")
_TAGS = re.compile(r"<[^>]*>")
_REMOVED_ATTACHMENT = base64.b64encode(b"[attachment removed by the grader]").decode("ascii")
_KEEP_AS_IS = ("text/plain", "image/png", "image/jpeg", "text/latex", "application/json")


def _text(value: Any) -> Optional[str]:
    """Mime data as one string (nbformat allows a list of lines), None if it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return None


def _has_content(cleaned_html: str) -> bool:
    if re.search(r"<img\b[^>]*\ssrc=|<hr\b", cleaned_html):
        return True
    return bool(_html.unescape(_TAGS.sub("", cleaned_html)).strip())


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and bool(_LENGTH.match(value.strip()))


def _clean_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        return
    metadata.pop("filenames", None)  # would become an <img src> pointing anywhere
    metadata.pop("isolated", None)
    scopes = [metadata] + [v for v in metadata.values() if isinstance(v, dict)]
    for scope in scopes:
        scope.pop("isolated", None)  # an iframe around the HTML
        for key in ("width", "height"):  # written unquoted into <img ... width=...>
            if key in scope and not _is_number(scope[key]):
                del scope[key]


def _is_count(value: Any) -> bool:
    """An execution count as nbformat allows it (templates print it unescaped)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


class SanitizeOutputs(NbGraderPreprocessor):
    """Make student-written content inert: outputs, written answers, attachments, widgets.

    See the module docstring for what is removed and why. Run it after execution (end of
    ``Autograde.autograde_preprocessors``) so the autograded notebook -- which formgrader
    shows and ``generate_feedback`` renders -- is clean, and in ``GenerateFeedback``'s
    preprocessors for notebooks autograded before it existed.
    """

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        metadata = nb.get("metadata")
        if isinstance(metadata, dict) and "widgets" in metadata:
            del metadata["widgets"]
            self.log.info("Removed the widget state of the notebook")
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        if not isinstance(cell, dict):
            return cell, resources
        cell_type = cell.get("cell_type")
        if cell_type == "code":
            self._clean_code_cell(cell, cell_index)
        elif cell_type == "markdown" and self._student_written(cell):
            source = cell.get("source", "")
            joined = _text(source)
            cleaned = clean_markdown(joined) if joined is not None else MARKDOWN_NOTE
            if cleaned != source and cleaned != joined:
                self.log.info("Cell %s: made raw HTML in markdown inert", cell_index)
                cell["source"] = cleaned
        if cell_type in ("markdown", "raw"):
            self._clean_attachments(cell, cell_index)
        return cell, resources

    @staticmethod
    def _student_written(cell) -> bool:
        """Not restored from the instructor's copy by nbgrader (answers, added cells)."""
        try:
            return not utils.is_locked(cell)
        except Exception:
            return True

    def _clean_attachments(self, cell, cell_index) -> None:
        attachments = cell.get("attachments")
        if not isinstance(attachments, dict):
            return
        for name, bundle in list(attachments.items()):
            if not isinstance(bundle, dict):
                del attachments[name]
                continue
            for mime in list(bundle):
                low = str(mime).lower()
                if "svg" in low or "html" in low or "javascript" in low or "xml" in low:
                    del bundle[mime]
                    self.log.info("Cell %s: removed %s attachment %s", cell_index, mime, name)
            if not bundle:
                # nbconvert raises on a missing attachment; leave an inert placeholder.
                bundle["text/plain"] = _REMOVED_ATTACHMENT

    def _clean_code_cell(self, cell, cell_index) -> None:
        if not _is_count(cell.get("execution_count")):
            cell["execution_count"] = None
        outputs = cell.get("outputs")
        if outputs is None:
            return
        if not isinstance(outputs, list):
            cell["outputs"] = []
            return
        kept = []
        for output in outputs:
            if not isinstance(output, dict):
                continue  # unreadable: not shown
            try:
                self._clean_output(output, cell_index)
            except Exception:  # fail closed
                self.log.warning("Cell %s: replaced an output it could not check", cell_index)
                output.clear()
                output.update({"output_type": "display_data", "metadata": {},
                               "data": {"text/plain": SCRIPT_NOTE}})
            kept.append(output)
        cell["outputs"] = kept

    def _clean_output(self, output, cell_index) -> None:
        output.pop("svg_filename", None)
        if not _is_count(output.get("execution_count")):
            output["execution_count"] = None
        if "metadata" in output:
            _clean_metadata(output["metadata"])
        if "data" not in output:
            return
        data = output["data"]
        if not isinstance(data, dict):
            output["data"] = {"text/plain": SCRIPT_NOTE}
            return
        removed = []
        for mime in list(data):
            low = str(mime).lower()
            value = data[mime]
            if low in _KEEP_AS_IS:
                continue
            if "javascript" in low or low.startswith("image/svg"):
                removed.append(mime)
            elif low == "text/html":
                text = _text(value)
                if text is not None and _ANIMATION.search(text):
                    output["data"] = {"text/plain": ANIMATION_NOTE}
                    self.log.info("Cell %s: removed an animation", cell_index)
                    return
                if text is not None and len(text) > MAX_HTML_CHARS:
                    # the HTML cleaner's time grows faster than the text (runs of `&`): a
                    # page this long is not shown rather than cleaned
                    output["data"] = {"text/plain": HTML_TOO_LONG_NOTE.format(len(text))}
                    self.log.info("Cell %s: left out %d characters of HTML", cell_index, len(text))
                    return
                cleaned = clean_html(text) if text is not None else ""
                if not _has_content(cleaned):
                    removed.append(mime)
                elif cleaned != text:
                    data[mime] = cleaned
            elif low == "text/markdown":
                text = _text(value)
                if text is None:
                    removed.append(mime)
                else:
                    cleaned = clean_markdown(text)
                    if cleaned != text:
                        data[mime] = cleaned
            elif low == "text/vnd.mermaid":
                text = _text(value)
                if text is None or _TAGLIKE.search(text):
                    removed.append(mime)
        for mime in removed:
            del data[mime]
        if removed:
            self.log.info("Cell %s: removed %s from an output", cell_index, ", ".join(map(str, removed)))
            plain = _text(data.get("text/plain", ""))
            if set(data) <= {"text/plain"} and (
                    plain is None or not plain.strip() or _GENERIC_REPR.match(plain)):
                output["data"] = {"text/plain": SCRIPT_NOTE}  # nothing left worth showing
