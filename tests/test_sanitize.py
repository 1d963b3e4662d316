"""Student content made inert (autograder/preprocessors/sanitize.py): exact results for hostile
Markdown and outputs, benign content unchanged, and an independent check of what nbconvert
(the formgrader's and the feedback's renderer) makes of every result."""
from __future__ import annotations

import base64
import copy
import io
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbgrader import utils
from PIL import Image

from autograder.course import ASSIGNMENTS, assignment_ids, master_notebook
from autograder.preprocessors import RestoreNotebook, SanitizeStudentContent
from autograder.preprocessors import sanitize
from autograder.preprocessors.sanitize import NOTE, NOTE_HTML, clean_html, clean_markdown, clean_outputs


def _png(mode: str = "RGB", fmt: str = "PNG") -> str:
    buffer = io.BytesIO()
    Image.new(mode, (3, 2), "red").save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


PNG, JPEG = _png(), _png(fmt="JPEG")


def _removed(html: str, newline: bool = True) -> str:
    """What a hostile top-level block becomes: its sanitized rendering (which ends with a
    newline, written as a character reference, unless it was an HTML block) and the note."""
    return f"<div>{html}{'&#10;' if newline else ''}{NOTE_HTML}</div>\n"


# -- an independent oracle: what would the rendered HTML do in a browser? -------------------------
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "meta", "base", "link", "style", "form", "svg",
               "math", "frame", "frameset", "applet", "noscript", "template", "input", "button", "textarea"}


class _Active(HTMLParser):
    """Lists what in an HTML text could run code or load something without a click."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or name in ("srcdoc", "formaction", "style") and "url(" in value:
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action", "data", "formaction", "xlink:href"):
                if value.startswith(("javascript:", "vbscript:")) or (
                        value.startswith("data:") and not value.startswith(("data:image/png", "data:image/jpeg"))):
                    self.found.append(f"{tag} {name}={value[:20]}")
                if tag == "img" and name == "src" and not value.startswith("data:image/"):
                    self.found.append(f"img loads {value[:20]}")   # a request on view

    handle_startendtag = handle_starttag


def active_in_rendering(markdown: str) -> list[str]:
    """What is active in `markdown` rendered as nbconvert renders a Markdown cell."""
    return _Active(markdown2html_mistune(markdown)).found


# -- Markdown ---------------------------------------------------------------------------------
BENIGN_MARKDOWN = [
    "A plain answer: the loss is 0 because every margin is met.",
    "Inline math $\\frac{a}{b}$ and $L_i = \\sum_{j \\ne y_i} \\max(0, s_j - s_{y_i} + 1)$.",
    "$$\n\\nabla_W L = \\frac{1}{N} X^T (P - Y)\n$$\n",
    "| class | score |\n|---|--:|\n| cat | 3.2 |\n| car | 5.1 |\n| frog | -1.7 |\n",
    "# Heading\n\n- a *list* with **bold**\n- and `code <img src=x onerror=alert(1)>`\n\n1. numbered\n",
    "```python\nprint('<script>alert(1)</script>')\n```\n",
    "    <script>indented code is text</script>\n",
    "A [link](https://cs231n.github.io/linear-classify/) and <https://example.org>, mail <a@b.org>.",
    "An image ![plot](data:image/png;base64,iVBORw0KGgo=) and 3 < 4 > 2 & so on.",
    "> a quote\n> over two lines\n",
]


@pytest.mark.parametrize("source", BENIGN_MARKDOWN)
def test_benign_markdown_is_byte_identical(source):
    assert clean_markdown(source) == (source, False)
    assert active_in_rendering(source) == []


HOSTILE_MARKDOWN = {
    # source -> exact result
    'Hi <img src="x" onerror="alert(1)"> there':
        _removed("<p>Hi <img> there</p>"),
    "<script>alert(document.cookie)</script>":
        _removed("", newline=False),
    "[click](javascript:alert(1))":
        _removed("<p><a>click</a></p>"),
    "[click](JaVaScRiPt:alert(1))":
        _removed("<p><a>click</a></p>"),
    "[click](vbscript:msgbox(1))":
        _removed("<p><a>click</a></p>"),
    "[page](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)":
        _removed("<p><a>page</a></p>"),
    "![svg](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)":
        _removed('<p><img alt="svg"></p>'),
    "![remote](https://example.org/track.png)":
        _removed('<p><img alt="remote"></p>'),
    "<javascript:alert(1)>":
        _removed("<p><a>javascript:alert(1)</a></p>"),
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>':
        _removed("", newline=False),
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>':
        _removed("", newline=False),
    "<svg onload=alert(1)><script>alert(2)</script></svg>":   # inline HTML: a paragraph
        _removed("<p></p>"),
    '<object data="x.html"></object><embed src="x.svg">':
        _removed("<p></p>"),
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">":
        _removed("", newline=False),
    '<div style="background-image:url(https://example.org/x.png)">styled</div>':
        _removed("<div>styled</div>", newline=False),
    "<style>@import url(https://example.org/x.css);</style>":
        _removed("", newline=False),
    '<details open ontoggle="alert(1)"><summary>more</summary>text</details>':
        _removed("<details><summary>more</summary>text</details>", newline=False),
    '<form action="javascript:alert(1)"><button autofocus>go</button></form>':
        _removed("go", newline=False),
    '<a href="javascript:alert(1)">x</a> and <a href="https://example.org">y</a>':
        _removed('<p><a>x</a> and <a href="https://example.org">y</a></p>'),
    "- item <img src=x onerror=alert(1)>\n- item 2\n":
        _removed("<ul>&#10;<li>item <img></li>&#10;<li>item 2</li>&#10;</ul>"),
}


@pytest.mark.parametrize("source", sorted(HOSTILE_MARKDOWN))
def test_hostile_markdown_becomes_exactly_its_sanitized_rendering(source):
    assert active_in_rendering(source), "the payload is not active without the sanitizer"
    cleaned, removed = clean_markdown(source)
    assert (cleaned, removed) == (HOSTILE_MARKDOWN[source], True)
    assert active_in_rendering(cleaned) == []
    assert NOTE in markdown2html_mistune(cleaned)


def test_only_the_hostile_block_changes_and_math_tables_code_stay_byte_identical():
    math = "First $\\frac{a}{b}$ and\n$$x^2$$\n"
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    code = "```\n<b>code</b>\n```\n"
    source = f"{math}\nSee <img src=x onerror=alert(1)> here.\n\n{table}\n{code}"
    cleaned, removed = clean_markdown(source)
    assert removed
    assert cleaned == f"{math}\n{_removed('<p>See <img> here.</p>')}\n{table}\n{code}"


def test_comments_and_mermaid_diagrams_are_removed_with_a_note():
    """Inert in nbconvert, but a comment hides text from the grader, and a Mermaid diagram is
    drawn by a script wherever one is loaded (JupyterLab)."""
    assert clean_markdown("<!-- <script>alert(1)</script> --> after") == (_removed("after", newline=False), True)
    assert clean_markdown("```mermaid\ngraph TD; A-->B\n```\n") == \
        (_removed("<pre><code>graph TD; A--&gt;B&#10;</code></pre>"), True)


def test_urls_are_judged_as_a_browser_reads_them():
    assert sanitize.url_ok("https://x.org/a(1)", image=False) and sanitize.url_ok("../b.html#c", image=False)
    assert sanitize.url_ok("data:image/png;base64,iVBO", image=True)
    assert sanitize.url_ok("attachment:plot.png", image=True)
    for url in ("java\tscript:alert(1)", " \x01javascript:alert(1)", "jav&#x61;script:alert(1)",
                "JAVASCRIPT:alert(1)", "vbscript:x", "data:text/html,x", "file:///etc/passwd"):
        assert not sanitize.url_ok(url, image=False), url
    for url in ("x.png", "/logout", "https://x.org/t.png", "data:image/svg+xml,<svg/>", "//x.org/t.png"):
        assert not sanitize.url_ok(url, image=True), url


def test_harmless_inline_html_keeps_its_formatting_without_a_note():
    cleaned, removed = clean_markdown("This is <b>bold</b> and <sub>low</sub>.")
    assert (cleaned, removed) == ("<div><p>This is <b>bold</b> and <sub>low</sub>.</p></div>\n", False)


def test_html_hidden_in_math_is_shown_as_text():
    cleaned, removed = clean_markdown("$<img src=x onerror=alert(1)>$")
    assert (cleaned, removed) == ("<div><p>$&lt;img src=x onerror=alert(1)&gt;$</p></div>\n", False)
    assert active_in_rendering(cleaned) == []


def test_a_block_markdown_it_misses_is_caught_by_nbconvert_and_shown_as_code(monkeypatch):
    """If the two Markdown parsers disagree, the renderer's parse decides: the text becomes code."""
    monkeypatch.setattr(sanitize, "_hostile_blocks", lambda source, inserted=frozenset(): [])
    source = "ok ``` <img src=x onerror=alert(1)>"
    cleaned, removed = clean_markdown(source)
    assert removed and cleaned == f"*[{NOTE}; the answer is shown as plain text]*\n\n````text\n{source}\n````\n"
    assert active_in_rendering(cleaned) == []


# -- outputs ----------------------------------------------------------------------------------
def _display(data: dict, **metadata) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata)


def _note(what: str) -> dict:
    return {"output_type": "display_data", "metadata": {}, "data": {"text/plain": f"[{NOTE}: {what}]"}}


OUTPUTS = [
    # (output, exact outputs after cleaning)
    (_display({"text/html": "<b onclick='steal()'>hi</b><script>alert(1)</script>", "text/plain": "<HTML>"}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/html": "<b>hi</b>", "text/plain": "<HTML>"}},
      _note("part of its HTML")]),
    (_display({"application/javascript": "alert(1)", "text/plain": "<Javascript>"}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "<Javascript>"}}, _note("a script")]),
    (_display({"application/javascript": "alert(1)"}), [_note("a script")]),
    (_display({"application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2, "version_minor": 0},
               "text/plain": "HTML(value='<img ...>')"}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "HTML(value='<img ...>')"}},
      _note("an interactive widget")]),
    (_display({"image/svg+xml": '<svg viewBox="0 0 2 2" onload="alert(1)"><script>alert(2)</script>'
                                '<rect width="1" height="1" fill="red"/></svg>'}),
     [{"output_type": "display_data", "metadata": {},
       "data": {"image/svg+xml": '<svg viewBox="0 0 2 2"><rect width="1" height="1" fill="red"></rect></svg>'}},
      _note("part of its SVG")]),
    (_display({"text/markdown": "**hi** <img src=x onerror=alert(1)>"}),
     [{"output_type": "display_data", "metadata": {},
       "data": {"text/markdown": _removed("<p><strong>hi</strong> <img></p>")}}, _note("part of its Markdown")]),
    (_display({"image/png": 'iVBORw0KGgo=" onerror="alert(1)', "text/plain": "<Figure>"}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "<Figure>"}},
      _note("an invalid image/png image")]),
    (_display({"application/pdf": "JVBERi0=", "text/plain": "<PDF>"}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "<PDF>"}},
      _note("an output of type application/pdf")]),
    (_display({"text/html": "<p>fine <b>table</b></p>"}, **{"text/html": {"isolated": True}}),
     [{"output_type": "display_data", "metadata": {}, "data": {"text/html": "<p>fine <b>table</b></p>"}}]),
]


@pytest.mark.parametrize("output, expected", OUTPUTS, ids=[str(i) for i in range(len(OUTPUTS))])
def test_hostile_outputs_are_cleaned_exactly(output, expected):
    assert [dict(o) for o in clean_outputs([output])] == expected


def test_benign_outputs_survive_unchanged():
    outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="PASS svm_loss: 1.2 (expected 1.2) <script>\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "2.5"}, execution_count=7),
        _display({"image/png": PNG, "text/plain": "<Figure size 640x480>"}, **{"image/png": {"width": 600}}),
        _display({"image/jpeg": JPEG, "text/plain": "<JPEG>"}),
        _display({"text/latex": "$\\frac{a}{b}$", "text/plain": "a/b"}),
        _display({"text/html": "<table><thead><tr><th>cat</th></tr></thead><tbody><tr><td>3.2</td></tr></tbody></table>"}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="<b>bad</b>", traceback=["ValueError: <b>bad</b>"]),
    ]
    assert clean_outputs(copy.deepcopy(outputs)) == outputs


def test_image_metadata_keeps_only_numeric_sizes():
    output = _display({"image/png": PNG}, **{"image/png": {"width": 300, "height": "1 onerror=alert(1)"},
                                              "filenames": {"image/png": "/logout"}})
    (cleaned,) = clean_outputs([output])
    assert cleaned.metadata == {"image/png": {"width": 300}}


def test_html_cleaning_reports_only_real_removals():
    assert clean_html('<p>a <a href="https://x.org/">b</a><br/><img alt=\'c\' width=2></p>') == \
        ('<p>a <a href="https://x.org/">b</a><br><img alt="c" width="2"></p>', False)
    assert clean_html('<p title="</noscript><img src=x onerror=alert(1)>">t</p>')[0] == \
        '<p title="&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;">t</p>'   # text, not a tag
    assert clean_html("<img src=x onerror=alert(1)>") == ("<img>", True)


# -- the preprocessor -------------------------------------------------------------------------
@pytest.mark.parametrize("assignment", assignment_ids())
def test_the_master_notebooks_own_cells_are_left_alone(assignment):
    released = nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name, as_version=4)
    nb, _ = SanitizeStudentContent().preprocess(copy.deepcopy(released), {"nbgrader": {"assignment": assignment}})
    assert nb.cells == released.cells


def _restored_and_sanitized(submission: nbformat.NotebookNode) -> nbformat.NotebookNode:
    resources = {"nbgrader": {"assignment": "01_losses"}}
    nb, _ = RestoreNotebook().preprocess(submission, resources)
    nb, _ = SanitizeStudentContent().preprocess(nb, resources)
    return nb


def test_answers_and_added_cells_are_cleaned_and_master_cells_are_not():
    submission = nbformat.read(ASSIGNMENTS / "01_losses" / "losses.ipynb", as_version=4)
    (answer,) = [c for c in submission.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_unique"]
    answer.source = "No: <img src=x onerror=alert(1)> scaling $W$ keeps $L = 0$."
    at = submission.cells.index(answer)
    submission.cells.insert(at + 1, nbformat.v4.new_markdown_cell("<script>alert(1)</script>", id="mine"))
    submission.cells.insert(at + 2, nbformat.v4.new_raw_cell("<script>alert(1)</script>", id="raw",
                                                             metadata={"format": "text/html"}))
    submission.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    master_cells = {c.id: c.source for c in submission.cells if c.cell_type == "markdown" and c is not answer}

    nb = _restored_and_sanitized(submission)
    cells = {c.id: c for c in nb.cells}
    assert cells["answer-unique"].source == _removed("<p>No: <img> scaling $W$ keeps $L = 0$.</p>")
    assert cells["mine"].source == _removed("", newline=False)
    assert cells["raw"].source == "<script>alert(1)</script>" and "format" not in cells["raw"].metadata
    assert "widgets" not in nb.metadata
    assert {i: cells[i].source for i in master_cells if i != "mine"} == \
        {i: s for i, s in master_cells.items() if i != "mine"}


def test_a_sanitized_answer_awaits_manual_grading_and_an_untouched_stub_still_reads_no_response():
    """nbgrader decides from the checksum of a written answer: the stub (unchanged by the
    sanitizer) scores 0 as "no response"; a sanitized answer awaits the grader."""
    released = nbformat.read(ASSIGNMENTS / "01_losses" / "losses.ipynb", as_version=4)
    stubs = {c.id: c for c in released.cells if utils.is_solution(c) and c.cell_type == "markdown"}
    submission = copy.deepcopy(released)
    hostile = next(c for c in submission.cells if c.id in stubs)
    hostile.source = "<img src=x onerror=alert(1)> my answer"
    nb = _restored_and_sanitized(submission)
    for cell in (c for c in nb.cells if c.id in stubs):
        cell.metadata.nbgrader["checksum"] = utils.compute_checksum(stubs[cell.id])
        score, points = utils.determine_grade(cell)
        assert (score, points) == ((None, 2.0) if cell.id == hostile.id else (0, 2.0))
    assert "my answer" in next(c for c in nb.cells if c.id == hostile.id).source
