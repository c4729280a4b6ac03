"""SanitizeOutputs: student-written content reaches the TA's and the student's browser inert.

Unit tests build notebooks with nbformat and run the preprocessor; the end-to-end tests
export a hostile notebook with nbconvert's default (lab) template and with nbgrader's
feedback template and inspect the page with an HTML parser.
"""
from __future__ import annotations

import base64
import copy
import os
import re

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbconvert.filters.strings import strip_files_prefix
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.sanitize import (
    ANIMATION_NOTE, MARKDOWN_NOTE, SCRIPT_NOTE, SanitizeOutputs, clean_markdown)

MARK = "PWNED_1234"
PNG = base64.b64encode(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82").decode("ascii")
DATAFRAME = """<div>
<style scoped>
    .dataframe tbody tr th:only-of-type { vertical-align: middle; }
</style>
<table border="1" class="dataframe">
  <thead>
    <tr style="text-align: right;"><th></th><th>loss</th><th>accuracy</th></tr>
  </thead>
  <tbody>
    <tr><th>0</th><td>0.693</td><td>0.51</td></tr>
    <tr><th>1</th><td>0.125</td><td>0.97</td></tr>
  </tbody>
</table>
</div>"""
REMOVED_ATTACHMENT = base64.b64encode(b"[attachment removed by the grader]").decode("ascii")
ANSWER = {"grade": True, "grade_id": "q1", "locked": False, "points": 2, "schema_version": 3,
          "solution": True, "task": False}


def run(nb):
    nb, _ = SanitizeOutputs().preprocess(nb, {})
    return nb


def display(data, metadata=None, kind="display_data"):
    return new_output(kind, data=data, metadata=metadata or {})


def outputs_after(*outputs):
    return run(new_notebook(cells=[new_code_cell("x", outputs=list(outputs))])).cells[0].outputs


def data_after(data, metadata=None):
    [output] = outputs_after(display(data, metadata))
    return output["data"]


def answer_after(source, metadata=None):
    cell = new_markdown_cell(source)
    cell.metadata["nbgrader"] = dict(metadata or ANSWER)
    return run(new_notebook(cells=[cell])).cells[0].source


def rendered(source):
    """What the page gets from a markdown source: nbconvert's rendering, then the templates'
    ``strip_files_prefix`` (feedback and formgrader apply it after rendering)."""
    return strip_files_prefix(HTMLExporter().markdown2html({"cell": {}}, source))


def soup_of(html):
    return BeautifulSoup(html, "html.parser")


def scheme(url):
    """The scheme a browser gives ``url`` (None for a relative URL)."""
    m = re.match(r"([a-z][a-z0-9+.\-]*):", re.sub(r"[\x00-\x20]", "", url).lower())
    return m.group(1) if m else None


def script_links(html):
    return [a for a in soup_of(html).find_all("a") if scheme(a.get("href", "")) not in (None, "http", "https", "mailto")]


# ------------------------------------------------------------------ HTML outputs
def test_script_in_html_output_is_removed():
    data = data_after({"text/html": f"<p>ok</p><script>alert('{MARK}')</script>"})
    assert "<script" not in data["text/html"] and MARK not in data["text/html"]
    assert "ok" in data["text/html"]


def test_onerror_attribute_is_removed():
    data = data_after({"text/html": f"<img src=x onerror=\"alert('{MARK}')\"><b>caption</b>"})
    assert "onerror" not in data["text/html"] and MARK not in data["text/html"]


def test_event_handlers_on_allowed_tags_are_removed():
    html = data_after({"text/html": f'<b onmouseover="{MARK}" onclick="{MARK}">x</b>'})["text/html"]
    assert html == "<b>x</b>"


def test_javascript_link_in_html_output_is_removed():
    html = data_after({"text/html": f'<a href=" JavaScript:alert(\'{MARK}\')">click</a>'})["text/html"]
    assert "javascript" not in html.lower() and "click" in html


def test_https_and_mailto_links_survive():
    html = data_after({"text/html": '<a href="https://numpy.org/doc/">np</a> <a href="mailto:ta@uni.edu">ta</a>'})["text/html"]
    assert 'href="https://numpy.org/doc/"' in html and 'href="mailto:ta@uni.edu"' in html


def test_iframe_is_removed():
    html = data_after({"text/html": f'<iframe src="https://evil.example/{MARK}"></iframe><p>after</p>'})["text/html"]
    assert "iframe" not in html and MARK not in html and "after" in html


def test_object_embed_and_form_are_removed():
    html = data_after({"text/html": '<object data="x.swf"></object><embed src="x.swf">'
                                    '<form action="https://evil.example"><input name="pw"></form><p>t</p>'})["text/html"]
    assert not re.search(r"<(object|embed|form|input)", html)


def test_img_with_remote_src_loses_it_but_data_png_is_kept():
    html = data_after({"text/html": f'<img src="https://tracker.example/{MARK}.png">'
                                    f'<img src="data:image/png;base64,{PNG}">'})["text/html"]
    assert MARK not in html and f'src="data:image/png;base64,{PNG}"' in html


def test_style_attribute_with_url_is_removed():
    html = data_after({"text/html": '<div style="background-image: url(https://evil.example/x)">a</div>'
                                    '<span style="color: red">b</span>'})["text/html"]
    assert "url(" not in html and "color:red" in html.replace(" ", "")


def test_dataframe_table_survives():
    html = data_after({"text/html": DATAFRAME, "text/plain": "   loss  accuracy"})["text/html"]
    table = soup_of(html).find("table")
    assert table is not None and table.get("class") == ["dataframe"]
    assert [td.get_text() for td in table.find_all("td")] == ["0.693", "0.51", "0.125", "0.97"]
    assert [th.get_text() for th in table.find("thead").find_all("th")] == ["", "loss", "accuracy"]


def test_html_given_as_a_list_of_lines_is_cleaned():
    html = data_after({"text/html": ["<p>line</p>\n", f"<script>{MARK}</script>"]})["text/html"]
    assert MARK not in html and "line" in html


def test_jshtml_animation_becomes_the_note():
    import matplotlib.pyplot as plt
    from matplotlib import animation

    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    (line,) = ax.plot([0, 1], [0, 1])
    anim = animation.FuncAnimation(fig, lambda i: (line.set_ydata([0, i]),), frames=2)
    html = anim.to_jshtml()
    plt.close(fig)
    assert "<script" in html  # the player is script-driven
    data = data_after({"text/html": html, "text/plain": "<IPython.core.display.HTML object>"})
    assert data == {"text/plain": ANIMATION_NOTE}


def test_html_that_was_only_a_script_becomes_the_note():
    data = data_after({"text/html": f"<script>alert('{MARK}')</script>",
                       "text/plain": "<IPython.core.display.HTML object>"})
    assert data == {"text/plain": SCRIPT_NOTE}


# ------------------------------------------------------------------ other mime types
def test_javascript_mime_types_are_dropped():
    data = data_after({"application/javascript": f"alert('{MARK}')", "text/javascript": MARK,
                       "application/vnd.bokehjs_exec.v0+javascript": MARK, "text/plain": "result 3"})
    assert data == {"text/plain": "result 3"}


def test_javascript_only_bundle_gets_the_note():
    data = data_after({"application/javascript": f"alert('{MARK}')",
                       "text/plain": "<IPython.core.display.Javascript object>"})
    assert data == {"text/plain": SCRIPT_NOTE}


def test_empty_bundle_gets_the_note():
    assert data_after({"application/javascript": MARK}) == {"text/plain": SCRIPT_NOTE}


def test_svg_is_dropped_and_the_png_alternative_kept():
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><script>alert("{MARK}")</script></svg>'
    data = data_after({"image/svg+xml": svg, "image/png": PNG, "text/plain": "<Figure size 100x100>"})
    assert data == {"image/png": PNG, "text/plain": "<Figure size 100x100>"}


def test_png_survives_byte_identical():
    data = data_after({"image/png": PNG, "text/plain": "<Figure>"}, metadata={"image/png": {"width": 300}})
    assert data["image/png"] == PNG


def test_kept_mime_types_are_unchanged():
    bundle = {
        "text/plain": "<b>not html</b> \x1b[31mred\x1b[0m",
        "image/jpeg": "/9j/4AAQSkZJRg==",
        "text/latex": r"$\frac{a<b}{2}$",
        "application/json": {"a": [1, 2, {"b": "<script>"}]},
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
    }
    assert data_after(copy.deepcopy(bundle)) == bundle


def test_markdown_output_loses_raw_html_but_keeps_markdown():
    md = f"**bold** and <img src=x onerror=\"alert('{MARK}')\">\n\n> quoted"
    data = data_after({"text/markdown": md, "text/plain": "<IPython.core.display.Markdown object>"})
    html = rendered(data["text/markdown"])
    assert "<strong>bold</strong>" in html and "<blockquote>" in html
    assert not soup_of(html).find("img")


def test_markdown_output_javascript_link_is_neutralised():
    data = data_after({"text/markdown": f"[click](javascript:alert('{MARK}'))"})
    assert script_links(rendered(data["text/markdown"])) == []


def test_mermaid_output_with_markup_is_dropped():
    data = data_after({"text/vnd.mermaid": f"graph LR\n</pre><script>{MARK}</script>", "text/plain": "graph"})
    assert data == {"text/plain": "graph"}


# ------------------------------------------------------------------ errors, metadata
def test_error_traceback_is_left_unchanged():
    tb = ["\x1b[0;31mValueError\x1b[0m: <script>alert('%s')</script>" % MARK]
    error = new_output("error", ename="ValueError", evalue=f"<script>{MARK}</script>", traceback=tb)
    [out] = outputs_after(copy.deepcopy(error))
    assert out == error


def test_error_traceback_is_escaped_by_nbconvert():
    tb = ["\x1b[0;31mValueError\x1b[0m: <script>alert('%s')</script>" % MARK]
    cell = new_code_cell("raise", outputs=[new_output("error", ename="ValueError", evalue="x", traceback=tb)])
    page, _ = HTMLExporter().from_notebook_node(run(new_notebook(cells=[cell])))
    assert "&lt;script&gt;alert(&#39;%s&#39;)&lt;/script&gt;" % MARK in page or \
        "&lt;script&gt;alert('%s')&lt;/script&gt;" % MARK in page
    assert not _page_problems(page)


def test_image_width_that_is_not_a_number_is_removed():
    [out] = outputs_after(display({"image/png": PNG}, {"image/png": {"width": f"1 onerror=alert('{MARK}')", "height": 20}}))
    assert out["metadata"]["image/png"] == {"height": 20}


def test_isolated_and_filenames_metadata_are_removed():
    [out] = outputs_after(display({"text/html": "<b>x</b>", "image/png": PNG},
                                  {"text/html": {"isolated": True}, "filenames": {"image/png": "https://evil.example/x"}}))
    assert out["metadata"] == {"text/html": {}}


def test_execution_count_that_is_not_an_int_is_cleared():
    nb = new_notebook(cells=[new_code_cell("1", outputs=[display({"text/plain": "1"}, kind="execute_result")])])
    # A student's code can make its kernel report anything; nbconvert prints it unescaped.
    nb.cells[0]["execution_count"] = f"<img src=x onerror={MARK}>"
    nb.cells[0].outputs[0]["execution_count"] = f"<script>{MARK}</script>"
    cell = run(nb).cells[0]
    assert cell["execution_count"] is None and cell.outputs[0]["execution_count"] is None


def test_widget_state_is_dropped_and_widget_views_kept():
    view = {"model_id": "m1", "version_major": 2, "version_minor": 0}
    nb = new_notebook(cells=[new_code_cell("w", outputs=[display({"application/vnd.jupyter.widget-view+json": view})])])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"m1": {"model_name": "HTMLModel", "state": {"value": f"<img src=x onerror={MARK}>"}}}}}
    nb = run(nb)
    assert "widgets" not in nb.metadata
    assert nb.cells[0].outputs[0]["data"] == {"application/vnd.jupyter.widget-view+json": view}


def test_odd_outputs_do_not_raise():
    nb = new_notebook(cells=[new_code_cell("x"), new_markdown_cell("x")])
    nb.cells[0]["outputs"] = [
        {"output_type": "display_data"},                              # no data, no metadata
        {"output_type": "display_data", "data": None, "metadata": None},
        {"output_type": "execute_result", "data": {"text/html": 42, "text/markdown": None}},
        {"output_type": "display_data", "data": {"text/html": ["<b>", 3]}},
        {"data": {"image/svg+xml": ["<svg>", "</svg>"]}},              # no output_type
        {"output_type": "stream"},
        "not an output",
        None,
    ]
    nb.cells += [{"cell_type": "markdown", "metadata": {}, "source": None}, {"cell_type": "markdown"}, "not a cell"]
    nb.cells[1]["attachments"] = {"a": None, "b": {"image/svg+xml": 5}}
    run(nb)
    outputs = nb.cells[0]["outputs"]
    assert len(outputs) == 6 and all(isinstance(o, dict) for o in outputs)  # non-dicts dropped
    assert [o.get("data") for o in outputs[1:5]] == [{"text/plain": SCRIPT_NOTE}] * 4
    assert nb.cells[1]["attachments"] == {"b": {"text/plain": REMOVED_ATTACHMENT}}
    assert nb.cells[2]["source"] == MARKDOWN_NOTE


def test_sanitising_twice_changes_nothing_more():
    nb = _hostile_notebook()
    once = run(nb)
    twice = run(copy.deepcopy(once))
    assert twice == once


def test_safe_notebook_is_left_unchanged():
    nb = new_notebook(cells=[
        new_markdown_cell("# Answer\n\n> the output is $W' = (W - F + 2P)/S + 1$ and $a<b$\n\n`x < y`"),
        new_code_cell("1 + 1", outputs=[display({"text/plain": "2"}, kind="execute_result"),
                                        new_output("stream", name="stdout", text="<b>printed</b>\n")]),
    ])
    before = copy.deepcopy(nb)
    assert run(nb) == before


# ------------------------------------------------------------------ students' markdown
@pytest.mark.parametrize("source", [
    "> a quote\n> on two lines\n\n>> nested",
    r"The output side is $\frac{n - F + 2P}{S} + 1$, and $a<b$, $x <y$, $$\sum_{i<j} w_{ij}$$",
    "Use `<script>alert(1)</script>` to show it, or ``<img src=x onerror=y>``.",
    "```html\n<script>alert(1)</script>\n<iframe src=x></iframe>\n```\n\nand\n\n~~~\n<img src=x onerror=alert(1)>\n~~~",
    "    <script>indented code</script>\n",
    "if a < b and c > d then a<-b, <= and -> are fine; <3",
    "| a | b |\n|---|---|\n| <b>x</b> | y |\n\n- [x] done\n- item with <sub>2</sub> and <br> break",
    "[numpy](https://numpy.org) <https://cs231n.github.io> ![fig](attachment:fig.png) [top](#answer)",
    "```mermaid\nflowchart LR\n    W([\"W (n×n)\"]) --> mul[\"× a<br/>b\"]\n```",
])
def test_ordinary_markdown_survives_unchanged(source):
    assert answer_after(source) == source


def test_student_markdown_img_onerror_is_gone():
    source = answer_after(f"My answer <img src=x onerror=\"alert('{MARK}')\"> is 3.")
    html = rendered(source)
    assert not soup_of(html).find("img") and "My answer" in html


def test_student_markdown_script_is_gone():
    html = rendered(answer_after(f"Answer\n\n<script>alert('{MARK}')</script>\n\nmore"))
    assert not soup_of(html).find("script") and "more" in html


def test_student_markdown_iframe_is_gone():
    html = rendered(answer_after(f'<iframe src="https://evil.example/{MARK}"></iframe>'))
    assert not soup_of(html).find("iframe")


def test_student_markdown_javascript_links_are_gone():
    html = rendered(answer_after(
        f"[a](javascript:alert('{MARK}')) <a href=\"javascript:alert('{MARK}')\">b</a> "
        f"<javascript:alert('{MARK}')> [c][r]\n\n[r]: javascript:alert(1)"))
    assert script_links(html) == []


def test_student_markdown_entity_encoded_javascript_link_is_gone():
    html = rendered(answer_after("[a](jav&#x61;script:alert(1)) [b](javascript&amp;#58;alert(1))"))
    assert script_links(html) == []


def test_student_markdown_links_behind_the_files_prefix_are_gone():
    """nbconvert's templates strip "files/" from link targets after rendering: a target is
    judged as the browser gets it."""
    source = (f"[a](files/javascript:alert('{MARK}')) [b](/files/data:text/html;base64,PHNjcmlwdD4=) "
              f"<a href=\"files/javascript:alert('{MARK}')\">c</a>")
    assert script_links(rendered(source))  # the trap is real
    assert script_links(rendered(answer_after(source))) == []


@pytest.mark.parametrize("image", [
    "![pixel](https://evil.example/px.png)", "![pixel](//evil.example/px.png)",
    "![pixel](files/https://evil.example/px.png)",
    '<img src="https://evil.example/px.png">', '<img src="/\\evil.example/px.png">'])
def test_student_markdown_image_from_another_host_is_not_loaded(image):
    html = rendered(answer_after(f"{image} and text"))
    assert not soup_of(html).find("img") and "and text" in html


def test_student_markdown_attachment_and_relative_images_stay():
    source = "![a](attachment:fig.png) ![b](figures/net.png)"
    assert answer_after(source) == source


@pytest.mark.parametrize("source", ["\\\\(" * 40000, "\\\\[" * 20000, "\\begin{a}\n" * 10000])
def test_markdown_too_costly_to_parse_is_quoted_without_parsing(source, monkeypatch):
    """Unclosed maths openers make nbconvert's parser quadratic (60k characters: 11 s): such
    a cell is shown quoted, and the parser is never run on it."""
    import autograder.sanitize as sanitize

    def no_parsing(_source):
        raise AssertionError("parsed")

    monkeypatch.setattr(sanitize, "markdown_risk", no_parsing)
    cleaned = clean_markdown(source)
    assert cleaned.startswith(sanitize.MARKDOWN_NOTE) and source in cleaned


def test_parse_cost_of_closed_formulas_is_their_length():
    from autograder.sanitize import MAX_PARSE_COST, parse_cost

    answer = "$a$ and text " * 800  # 800 formulas, 10k characters
    assert parse_cost(answer) <= 3 * len(answer) < MAX_PARSE_COST
    assert parse_cost("\\\\(" * 2000) > 1000 * 2000 * 3


def test_student_markdown_script_hidden_in_a_code_span_is_gone():
    # Looks like one code span, but the second line starts an HTML block that nbconvert renders.
    source = f"`x\n<script>alert('{MARK}')</script>`"
    assert soup_of(rendered(source)).find("script")  # the trap is real
    assert not soup_of(rendered(answer_after(source))).find("script")


def test_student_mermaid_fence_cannot_close_its_pre():
    source = f"```mermaid\ngraph LR\n</pre><script>alert('{MARK}')</script>\n```"
    assert soup_of(rendered(source)).find("script")  # nbconvert writes mermaid bodies verbatim
    assert not soup_of(rendered(answer_after(source))).find("script")


def test_student_markdown_keeps_allowed_tags_and_escapes_only_the_bad_one():
    source = answer_after(f"x<sub>2</sub> is <b>big</b> <img src=x onerror={MARK}> and `<script>`")
    assert source == f"x<sub>2</sub> is <b>big</b> &lt;img src=x onerror={MARK}> and `<script>`"


def test_cell_added_by_a_student_is_cleaned():
    nb = run(new_notebook(cells=[new_markdown_cell(f"<img src=x onerror={MARK}>")]))
    assert not soup_of(rendered(nb.cells[0].source)).find("img")


def test_locked_instructor_markdown_is_untouched():
    source = '<div class="alert alert-info"><img src="figures/net.png"></div>'
    locked = {"grade": False, "grade_id": "text_01", "locked": True, "schema_version": 3,
              "solution": False, "task": False}
    assert answer_after(source, locked) == source


def test_markdown_that_cannot_be_repaired_is_quoted_as_code():
    # Past the repair budget (400 places to try) the cell is shown verbatim in a code fence.
    source = "<b>x</b>" * 201 + f"<script>{MARK}</script>"
    cleaned = clean_markdown(source)
    assert "```" in cleaned and not soup_of(rendered(cleaned)).find("script")


def test_svg_and_html_attachments_are_dropped_png_kept():
    cell = new_markdown_cell("![a](attachment:a.svg) ![b](attachment:b.png)")
    cell["attachments"] = {"a.svg": {"image/svg+xml": base64.b64encode(b"<svg onload=x/>").decode()},
                           "b.png": {"image/png": PNG, "text/html": "PGI+"}}
    cell = run(new_notebook(cells=[cell])).cells[0]
    assert cell.attachments["b.png"] == {"image/png": PNG}
    assert "image/svg+xml" not in cell.attachments["a.svg"]
    HTMLExporter().from_notebook_node(new_notebook(cells=[cell]))  # no "missing attachment"


# ------------------------------------------------------------------ end to end
def _hostile_notebook(execution_count=True):
    student_answer = new_markdown_cell(
        f"My answer: <img src=x onerror=\"alert('{MARK}')\"> and <script>alert('{MARK}')</script>\n\n"
        f"[click](javascript:alert('{MARK}')) <a href=\"javascript:alert('{MARK}')\">me</a>\n\n"
        f"`x\n<script>alert('{MARK}')</script>`\n\n"
        f"```mermaid\ngraph LR\n</pre><script>alert('{MARK}')</script>\n```\n\n"
        f"Shown as code: `<script>{MARK}</script>`\n\n> a quote with $a<b$\n\n"
        f"[files](files/javascript:alert('{MARK}')) ![px](https://evil.example/{MARK}.png)")
    student_answer.metadata["nbgrader"] = dict(ANSWER, score=1.0)
    added = new_markdown_cell(f'<iframe src="https://evil.example/{MARK}"></iframe><svg onload="{MARK}"></svg>')
    outputs = [
        display({"text/html": f"<script>alert('{MARK}')</script>", "text/plain": "<IPython.core.display.HTML object>"}),
        display({"text/html": f"<img src=x onerror=\"alert('{MARK}')\"><iframe src='https://evil.example/{MARK}'></iframe>"
                              f"<a href=\"javascript:alert('{MARK}')\">link</a><form action='https://evil.example'>"
                              f"<button formaction='javascript:{MARK}'>b</button></form>" + DATAFRAME}),
        display({"application/javascript": f"alert('{MARK}')", "text/plain": "<IPython.core.display.Javascript object>"}),
        display({"image/svg+xml": f"<svg xmlns='http://www.w3.org/2000/svg' onload='{MARK}'><script>{MARK}</script></svg>",
                 "image/png": PNG, "text/plain": "<Figure>"},
                {"image/png": {"width": f"1 onerror=alert('{MARK}')"}}),
        display({"text/html": f"<b>isolated</b><img src=x onerror={MARK}>"}, {"text/html": {"isolated": True}}),
        display({"text/markdown": f"<img src=x onerror=\"{MARK}\"> [x](javascript:{MARK})",
                 "text/plain": "<IPython.core.display.Markdown object>"}),
        display({"text/vnd.mermaid": f"</pre><script>{MARK}</script>", "text/plain": "graph"}),
        new_output("error", ename="ValueError", evalue=MARK,
                   traceback=[f"\x1b[0;31mValueError\x1b[0m: <script>alert('{MARK}')</script>"]),
    ]
    nb = new_notebook(cells=[student_answer, new_code_cell("student_code()", outputs=outputs), added])
    if execution_count:  # nbconvert refuses to export this one unsanitised
        nb.cells[1]["execution_count"] = f"<img src=x onerror={MARK}>"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0,
        "state": {"m1": {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls",
                         "model_module_version": "2.0.0", "state": {"value": f"<img src=x onerror={MARK}>"}}}}}
    return nb


_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data")


def _page_problems(page: str) -> list[str]:
    """Everything in an exported page that would let the student's payload act."""
    problems = []
    soup = soup_of(page)
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else str(value)
            if name.lower().startswith("on"):
                problems.append(f"<{tag.name} {name}=...>")
            # A web link may carry any text in its URL (students may link to any page; the
            # escaped '<iframe src="https://...' of a written answer shows as such a link).
            web_link = tag.name == "a" and name == "href" and scheme(value) in ("http", "https")
            if MARK in value and not web_link:
                problems.append(f"payload in <{tag.name} {name}>")
            if name.lower() in _URL_ATTRS and scheme(value) in ("javascript", "vbscript"):
                problems.append(f"script URL in <{tag.name} {name}>")
            if tag.name == "img" and name == "src" and (scheme(value) in ("http", "https")
                                                        or value.startswith("//")):
                problems.append(f"image from another host: {value[:40]}")
        if tag.name in ("iframe", "frame", "object", "embed", "form"):
            problems.append(f"<{tag.name}>")
        if tag.name == "script" and MARK in tag.get_text():
            problems.append("payload in <script>")
    return problems


def _feedback_exporter():
    """The exporter and templates the course's feedback uses (nbgrader_config.py)."""
    import nbgrader.converters

    import autograder
    from autograder.mathml import FeedbackHTMLExporter

    base = os.path.dirname(nbgrader.converters.__file__)
    exporter = FeedbackHTMLExporter(
        template_name="feedback",
        extra_template_basedirs=[os.path.join(os.path.dirname(autograder.__file__), "templates"),
                                 os.path.abspath(os.path.join(base, "..", "server_extensions", "formgrader", "templates"))],
        extra_template_paths=[os.path.abspath(os.path.join(
            base, "..", "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist", "css"))],
    )
    resources = {"nbgrader": {"notebook": "01_answer", "score": 1.0, "max_score": 2.0, "late_penalty": 0}}
    return exporter, resources


def test_check_finds_the_attacks_in_an_unsanitised_export():
    # The end-to-end check below can fail: without the preprocessor it reports the attacks.
    page, _ = HTMLExporter().from_notebook_node(_hostile_notebook(execution_count=False))
    problems = _page_problems(page)
    assert "payload in <script>" in problems and "<iframe>" in problems
    assert any("onerror" in p for p in problems) and any("script URL" in p for p in problems)


def test_exported_page_lab_template_is_inert():
    page, _ = HTMLExporter().from_notebook_node(run(_hostile_notebook()))
    assert _page_problems(page) == []
    text = soup_of(page).get_text()
    assert MARK in text  # shown as text (code span, traceback), not removed from sight
    assert "loss" in text and "accuracy" in text and f"data:image/png;base64,{PNG}" in page
    assert SCRIPT_NOTE in text and "a quote with" in text


def test_exported_feedback_page_is_inert():
    exporter, resources = _feedback_exporter()
    page, _ = exporter.from_notebook_node(run(_hostile_notebook()), resources=resources)
    assert "Written response" in page  # nbgrader's feedback template, not the default one
    assert _page_problems(page) == []
    assert MARK in soup_of(page).get_text()


def test_sanitised_notebook_is_still_a_valid_notebook():
    nb = run(_hostile_notebook())
    nb.cells[1]["execution_count"] = None
    nbformat.validate(nb)


def test_html_too_long_to_clean_is_left_out_not_cleaned():
    """A run of `&` makes the HTML cleaner super-linear (a hostile round: 329 s a notebook)."""
    from autograder.sanitize import MAX_HTML_CHARS

    out = outputs_after(display({"text/html": "&" * (MAX_HTML_CHARS + 1), "text/plain": "<HTML>"}))
    assert out[0].data == {"text/plain": f"[an HTML output of {MAX_HTML_CHARS + 1:,} characters, "
                                         "too long to show safely, was left out]"}


def test_html_up_to_the_limit_is_cleaned_and_shown():
    out = outputs_after(display({"text/html": DATAFRAME}))
    assert "dataframe" in out[0].data["text/html"]
