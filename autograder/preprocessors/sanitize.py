"""Student content made inert before an autograded notebook is saved.

Everything a student wrote or their kernel produced is later rendered as HTML in the
instructor's authenticated session: by the formgrader and `nbgrader generate_feedback`
(nbconvert passes raw HTML in Markdown, HTML and SVG outputs through, and turns
JavaScript outputs into <script> tags) and by JupyterLab. So before the notebook is
saved, `SanitizeStudentContent` rewrites it:

- outputs: only plain text, tracebacks, valid PNG/JPEG images, LaTeX and HTML, SVG and
  Markdown are kept; HTML and SVG go through nh3 (the ammonia allow-list sanitizer),
  Markdown through `clean_markdown`; JavaScript, widgets and every other kind of output
  are dropped. Each output that lost something is followed by a short visible note.
- Markdown cells that are not the master notebook's own (written answers, cells the
  student added): `clean_markdown`. Raw cells lose the format that would render them.
- the widget state kernels leave in the notebook's metadata.

`clean_markdown` parses with markdown-it and leaves every top-level block that holds no
raw HTML, no unsafe link or image URL and no Mermaid diagram byte for byte as it was
(prose, tables, `$...$` math, code). A block that does is replaced by its rendering,
cleaned by nh3, as one HTML block. The result is then parsed again by markdown-it and by
nbconvert's own Markdown renderer (mistune, the one the formgrader and the feedback use):
if either finds raw HTML other than the blocks written here, or an unsafe URL, the whole
text is shown as a code block instead. So safety never rests on two Markdown parsers
agreeing.
"""
from __future__ import annotations

import base64
import binascii
import copy
import html
import itertools
import urllib.parse
from html.parser import HTMLParser

import nbformat
import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from mdit_py_plugins.dollarmath import dollarmath_plugin
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from autograder.course import master_notebook

NOTE = "active content was removed by the grader"
NOTE_HTML = f'<p class="optimlab-removed"><em>[{NOTE}]</em></p>'

# -- URLs ------------------------------------------------------------------------------------
LINK_SCHEMES = {"http", "https", "mailto"}        # plus relative links: a click is needed
IMAGE_DATA = {"image/png", "image/jpeg"}          # the only images shown without a request
URL_ATTRIBUTES = {"href", "src", "cite", "longdesc", "xlink:href"}


def url_ok(url: str, image: bool) -> bool:
    """Whether `url` may stay as a link (`image=False`) or an image source (`image=True`).

    Links: http, https, mailto or relative. Images load without a click, so only
    PNG/JPEG data URLs and notebook attachments. Checked on the text as given and with
    HTML entities decoded, with the scheme found as browsers find it (urlsplit drops tabs
    and newlines and leading control characters, as the WHATWG URL parser does).
    """
    for text in {url, html.unescape(url)}:
        try:
            parts = urllib.parse.urlsplit(text)
        except ValueError:
            return False
        scheme = parts.scheme.lower()
        if image:
            media = parts.path.split(",", 1)[0].split(";", 1)[0].strip().lower()
            if not (scheme == "attachment" or (scheme == "data" and media in IMAGE_DATA)):
                return False
        elif scheme and scheme not in LINK_SCHEMES:
            return False
    return True


def _url_filter(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute callback: URL attributes must pass `url_ok`."""
    if attribute in URL_ATTRIBUTES and not url_ok(value, image=tag == "img"):
        return None
    return value


# -- HTML and SVG ----------------------------------------------------------------------------
_HTML_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
for _cell in ("td", "th"):   # Markdown tables align columns with style="text-align: ..."
    _HTML_ATTRIBUTES[_cell] = _HTML_ATTRIBUTES[_cell] | {"style"}
_HTML_ATTRIBUTES["*"] = {"title", "lang", "dir"}
HTML_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS), clean_content_tags={"script", "style"}, attributes=_HTML_ATTRIBUTES,
    attribute_filter=_url_filter, url_schemes=LINK_SCHEMES | {"data", "attachment"},
    filter_style_properties={"text-align"}, link_rel=None, strip_comments=True)

# Drawing elements only: no script, style, foreignObject, a, use, image, animate or set.
SVG_TAGS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
            "text", "tspan", "title", "desc", "defs", "linearGradient", "radialGradient", "stop"}
SVG_ATTRIBUTES = {
    "xmlns", "version", "viewBox", "width", "height", "preserveAspectRatio", "id", "x", "y",
    "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "d", "points", "transform", "fill",
    "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-dasharray", "opacity", "font-family", "font-size", "font-weight",
    "text-anchor", "dominant-baseline", "dx", "dy", "offset", "stop-color", "stop-opacity",
    "gradientUnits", "gradientTransform"}
SVG_CLEANER = nh3.Cleaner(tags=SVG_TAGS, clean_content_tags={"script", "style"},
                          attributes={"*": SVG_ATTRIBUTES}, url_schemes=set(), link_rel=None,
                          strip_comments=True)


class _Shape(HTMLParser):
    """The tags, attributes and comments of an HTML text, in order (text and end tags are
    left out: the sanitizer escapes text and closes elements, which removes nothing)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.events.append((tag, sorted((name, value or "") for name, value in attrs)))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.events.append(("!--", data))

    def handle_decl(self, decl):
        self.events.append(("!", decl))

    def handle_pi(self, data):
        self.events.append(("?", data))


def _lost_something(before: str, after: str) -> bool:
    """Whether the sanitizer removed a tag, an attribute or a comment (decides the note only)."""
    return _Shape(before).events != _Shape(after).events


def clean_html(text: str, cleaner: nh3.Cleaner = HTML_CLEANER) -> tuple[str, bool]:
    """(`text` sanitized by `cleaner`, whether anything was removed)."""
    cleaned = cleaner.clean(text)
    return cleaned, _lost_something(text, cleaned)


# -- Markdown --------------------------------------------------------------------------------
def _markdown_it(math: bool) -> MarkdownIt:
    """CommonMark with tables, raw HTML allowed and every link kept (url_ok judges them).
    With `math`, `$...$` and `$$...$$` render as their TeX between dollars, for MathJax,
    as nbconvert renders them."""
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True
    if math:
        md.use(dollarmath_plugin, double_inline=True)
        for rule, fence in (("math_inline", "$"), ("math_inline_double", "$$"), ("math_block", "$$")):
            md.add_render_rule(rule, lambda renderer, tokens, idx, options, env, fence=fence:
                               escapeHtml(f"{fence}{tokens[idx].content}{fence}"))
    return md


# Looking for hostile content, math is text: HTML between dollars counts, whatever a
# renderer would make of the dollars.
DETECT, RENDER = _markdown_it(math=False), _markdown_it(math=True)


def _hostile(token, inserted: set[str]) -> bool:
    """Whether a markdown-it token is raw HTML (other than a block written here), an unsafe
    link or image, or a Mermaid diagram (rendered by a script)."""
    if token.type in ("html_block", "html_inline"):
        return token.content.strip() not in inserted
    if token.type == "link_open":
        return not url_ok(str(token.attrGet("href") or ""), image=False)
    if token.type == "image":
        return not url_ok(str(token.attrGet("src") or ""), image=True)
    return token.type == "fence" and token.info.strip().lower().startswith("mermaid")


def _hostile_blocks(source: str, inserted: set[str] = frozenset()) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the top-level blocks of `source` holding something hostile."""
    blocks, current = [], None
    for token in DETECT.parse(source):
        if token.level == 0 and token.map is not None:
            current = tuple(token.map)
        if any(_hostile(t, inserted) for t in [token, *(token.children or [])]):
            if current not in blocks:
                blocks.append(current)
    return blocks


class _RawContentFinder(IPythonRenderer):
    """nbconvert's Markdown renderer that records, instead of rendering, what would reach
    the page unescaped: raw HTML, link and image URLs, Mermaid diagrams."""

    def __init__(self):
        super().__init__(escape=False)
        self.found: list[tuple[str, str]] = []

    def block_html(self, html: str) -> str:
        self.found.append(("html", html))
        return ""

    inline_html = block_html

    def link(self, text: str, url: str, title=None) -> str:
        self.found.append(("link", url))
        return text

    def image(self, text: str, url: str, title=None) -> str:
        self.found.append(("image", url))
        return text

    def block_code(self, code: str, info=None) -> str:
        if info and info.strip().lower().startswith("mermaid"):
            self.found.append(("html", "mermaid"))
        return ""


def _inert(source: str, inserted: set[str]) -> bool:
    """Whether neither markdown-it nor nbconvert's renderer finds anything hostile in `source`."""
    if _hostile_blocks(source, inserted):
        return False
    finder = _RawContentFinder()
    try:
        MarkdownWithMath(renderer=finder).render(source)
    except Exception:  # noqa: BLE001 - text the renderer cannot read is not known to be inert
        return False
    return all(html.strip() in inserted if kind == "html" else url_ok(html, image=kind == "image")
               for kind, html in finder.found)


def _html_block(markdown: str) -> tuple[str, bool]:
    """One line of HTML: `markdown` rendered, sanitized, and the note if anything was removed.
    Newlines become character references so that no blank line can end the HTML block."""
    rendered = RENDER.render(markdown)
    cleaned, lost = clean_html(rendered)
    lost = lost or not cleaned.strip()
    if lost:
        cleaned += NOTE_HTML
    return "<div>" + cleaned.strip().replace("\n", "&#10;") + "</div>", lost


def _as_code(source: str) -> str:
    """`source` shown as a fenced code block (a fence longer than any backtick run in it)."""
    longest = max((len(list(run)) for char, run in itertools.groupby(source) if char == "`"), default=0)
    fence = "`" * max(3, longest + 1)
    return f"*[{NOTE}; the answer is shown as plain text]*\n\n{fence}text\n{source}\n{fence}\n"


def clean_markdown(source: str) -> tuple[str, bool]:
    """(`source` made inert, whether anything was removed): see the module's docstring."""
    lines = source.splitlines(keepends=True)
    inserted: set[str] = set()
    removed = False
    for start, end in reversed(_hostile_blocks(source)):
        block, lost = _html_block("".join(lines[start:end]))
        inserted.add(block)
        removed = removed or lost
        # blank lines around it: an HTML block ends only at a blank line
        before = ["\n"] if start and lines[start - 1].strip() else []
        after = ["\n"] if end < len(lines) and lines[end].strip() else []
        if start and not lines[start - 1].endswith("\n"):
            lines[start - 1] += "\n"
        lines[start:end] = [*before, block + "\n", *after]
    cleaned = "".join(lines)
    if _inert(cleaned, inserted):
        return cleaned, removed
    fallback = _as_code(source)
    return (fallback if _inert(fallback, set()) else f"*[{NOTE}]*"), True


# -- outputs ---------------------------------------------------------------------------------
IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
LABELS = {"text/html": "HTML", "image/svg+xml": "SVG", "text/markdown": "Markdown"}


def _valid_image(mime: str, data) -> bool:
    """Base64 of a real PNG/JPEG (nbconvert writes it into an <img src="data:...">)."""
    if not isinstance(data, str):
        return False
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(IMAGE_MAGIC[mime])


def _note_output(what: list[str]) -> NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/plain": f"[{NOTE}: {', '.join(what)}]"})


def _clean_bundle(data: dict) -> tuple[dict, list[str]]:
    """(the mime bundle with only inert content, what was removed in words)."""
    kept, removed = {}, []
    for mime, value in data.items():
        if mime in ("text/plain", "text/latex") and isinstance(value, str):
            kept[mime] = value
        elif mime in IMAGE_MAGIC:
            if _valid_image(mime, value):
                kept[mime] = value
            else:
                removed.append(f"an invalid {mime} image")
        elif mime in ("text/html", "image/svg+xml", "text/markdown") and isinstance(value, str):
            if mime == "text/markdown":
                kept[mime], lost = clean_markdown(value)
            else:
                kept[mime], lost = clean_html(value, HTML_CLEANER if mime == "text/html" else SVG_CLEANER)
            if lost:
                removed.append(f"part of its {LABELS[mime]}")
        elif "javascript" in mime:
            removed.append("a script")
        elif mime.startswith("application/vnd.jupyter.widget"):
            removed.append("an interactive widget")
        else:
            removed.append(f"an output of type {mime}")
    return kept, removed


def _image_metadata(metadata: dict) -> dict:
    """Only the numeric sizes of images (nbconvert writes them into the <img> tag)."""
    kept = {}
    for mime in IMAGE_MAGIC:
        sizes = {k: v for k, v in metadata.get(mime, {}).items()
                 if k in ("width", "height") and isinstance(v, (int, float)) and not isinstance(v, bool)}
        if sizes:
            kept[mime] = sizes
    return kept


def clean_outputs(outputs: list) -> list:
    """The outputs of a code cell made inert, each one that lost something followed by a note."""
    cleaned = []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result"):
            cleaned.append(output)   # streams and tracebacks are text, escaped by every renderer
            continue
        output = copy.deepcopy(output)
        output.data, removed = _clean_bundle(output.get("data", {}))
        output.metadata = _image_metadata(output.get("metadata", {}))
        output.pop("transient", None)
        if output.output_type == "execute_result" and not output.data:
            output.data = {"text/plain": ""}   # keeps its place (and execution count)
        if output.data:
            cleaned.append(output)
        if removed:
            cleaned.append(_note_output(removed))
    return cleaned


# -- the preprocessor ------------------------------------------------------------------------
def _master_sources(assignment: str, parent) -> set[str]:
    """The sources of the master notebook's cells, as in the master and as released."""
    master = nbformat.read(master_notebook(assignment), as_version=4)
    released, _ = ClearSolutions(parent=parent).preprocess(copy.deepcopy(master), {})
    return {cell.source for nb in (master, released) for cell in nb.cells if not utils.is_solution(cell)}


class SanitizeStudentContent(NbGraderPreprocessor):
    """Makes everything the student wrote or produced inert (see the module's docstring).

    A Markdown cell is the master notebook's own, and left alone, when it is not an answer
    cell and its source is exactly that of a cell of the master notebook. Every output
    comes from the student's kernel and is cleaned.
    """

    def preprocess(self, nb, resources):
        self._trusted = _master_sources(resources["nbgrader"]["assignment"], self)
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = clean_outputs(cell.outputs)
        elif cell.cell_type == "raw":
            cell.metadata.pop("format", None)
            cell.metadata.pop("raw_mimetype", None)
        elif cell.cell_type == "markdown" and (utils.is_solution(cell) or cell.source not in self._trusted):
            cell.source, _ = clean_markdown(cell.source)
            if "attachments" in cell:
                cell.attachments = {name: {m: v for m, v in bundle.items() if m in IMAGE_MAGIC and _valid_image(m, v)}
                                    for name, bundle in cell.attachments.items()}
        return cell, resources
