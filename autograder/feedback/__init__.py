"""The feedback HTML a student reads: one self-contained file per student and notebook.

Students open their feedback offline, from an e-mail or an LMS, so the page
loads nothing: no script, no font, no style sheet from anywhere. Formulas are
typeset here, at rendering time, into MathML (which browsers draw natively),
instead of being left as TeX for a MathJax loaded from the network; the style
sheet (`templates/optimlab_feedback/feedback.css`) is inlined.

`FeedbackExporter` is the exporter of nbgrader's GenerateFeedback step
(`autograder.course.configure` sets it); the template it uses names every
question in the index, says which written answers await a grader and, in a
self-learner's grading, shows each written answer beside its model answer.
What the template reads is put into the notebook by the feedback
preprocessors (`autograder.preprocessors.feedback`).
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Callable

import markupsafe
import nh3
from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets import default

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAME = "optimlab_feedback"

# The MathML that latex2mathml writes, and nothing else: a student's TeX
# (\text{<img ...>}, \href{javascript:...}) must not smuggle HTML or links
# into the page through the converter.
MATHML_TAGS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
               "msqrt", "mroot", "mfrac", "msub", "msup", "msubsup", "mover", "munder", "munderover",
               "mstyle", "mpadded", "mphantom", "menclose", "mtable", "mtr", "mtd", "merror"}
MATHML_ATTRIBUTES = {"display", "mathvariant", "stretchy", "fence", "separator", "form", "minsize",
                     "maxsize", "largeop", "movablelimits", "symmetric", "accent", "accentunder",
                     "lspace", "rspace", "width", "height", "depth", "linethickness", "displaystyle",
                     "scriptlevel", "columnalign", "columnspacing", "rowspacing", "columnlines",
                     "rowlines", "frame", "notation"}

# Environments latex2mathml reads under another name: `aligned` (which it
# does not know) is the inner form of `align*`, which it does.
ENVIRONMENT_ALIASES = {"aligned": "align*"}


def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML for one formula (TeX without its $ delimiters), sanitized.

    A formula the converter cannot read is shown as its TeX source in a
    `<code class="tex-error">`, so the reader still sees what was meant.
    """
    for name, alias in ENVIRONMENT_ALIASES.items():
        tex = tex.replace(f"{{{name}}}", f"{{{alias}}}")
    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - the converter raises many kinds of errors on TeX it cannot read
        return f'<code class="tex-error">{markupsafe.escape(tex)}</code>'
    return nh3.clean(mathml, tags=MATHML_TAGS, attributes={"*": MATHML_ATTRIBUTES})


# Code (fenced blocks and `spans`), which keeps its dollars, and formulas: $$display$$ and $inline$
# (no blank line inside, no space after the opening or before the closing $, \$ is a dollar).
CODE = re.compile(r"```.*?```|~~~.*?~~~|(`+).*?\1", re.S)
FORMULA = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?![\s$])((?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)(?<![\\\s])\$",
                     re.S)


def typeset_math(markdown: str, render: Callable[[str], str]) -> str:
    """`render(markdown)` with every formula typeset as MathML, whatever the Markdown around it.

    As JupyterLab does, formulas are taken out before the Markdown is parsed
    and put back, typeset, into the HTML: a formula broken over lines where
    one starts with '+ ' stays a formula, not a list item.
    """
    token = f"mathml{uuid.uuid4().hex}n"
    formulas: list[str] = []

    def protect(match: re.Match) -> str:
        display, inline = match.group(1), match.group(2)
        formulas.append(tex_to_mathml(display if display is not None else inline, display=display is not None))
        return f"{token}{len(formulas) - 1}x"

    parts, start = [], 0
    for code in CODE.finditer(markdown):
        parts += [FORMULA.sub(protect, markdown[start:code.start()]), code.group(0)]
        start = code.end()
    parts.append(FORMULA.sub(protect, markdown[start:]))
    html = render("".join(parts))
    placeholder = re.compile(rf"{token}(\d+)x")
    # A heading's anchor id is made of its text: there the formula is left out, not typeset.
    html = re.sub(r'="[^"]*"', lambda attribute: placeholder.sub("", attribute.group(0)), html)
    return placeholder.sub(lambda m: formulas[int(m.group(1))], html)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, with every formula typeset as MathML instead of kept as TeX."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


def latex_output_to_mathml(latex: str) -> str:
    """A `text/latex` output (`$...$`, `$$...$$` or a bare formula) as MathML."""
    text = latex.strip()
    display = text.startswith("$$") or not text.startswith("$")
    return tex_to_mathml(text.strip("$"), display=display)


def inline_markdown(text: str) -> str:
    """One line of Markdown (a heading's text) as inline HTML, raw HTML escaped, math typeset."""
    number, dot, rest = text.partition(". ")
    if dot and number.isdigit():  # '4. Regularization' is a heading's number, not a list
        text = f"{number}\\. {rest}"
    html = typeset_math(text, MarkdownWithMath(renderer=MathMLRenderer(escape=True)).render).strip()
    return html.removeprefix("<p>").removesuffix("</p>")


def points(value) -> str:
    """A score as the gradebook means it: 2, 2.5, 17.14 (no trailing zeros); None is 0."""
    return f"{round(float(value or 0), 2):g}"


class FeedbackExporter(HTMLExporter):
    """HTML of a graded notebook that reads the same online and offline."""

    @default("template_name")
    def _template_name_default(self):
        return TEMPLATE_NAME

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return [str(TEMPLATES)]

    @pass_context
    def markdown2html(self, context, source: str) -> str:
        """nbconvert's Markdown filter (attachments, anchors) with the math typeset as MathML."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return typeset_math(source, MarkdownWithMath(renderer=renderer).render)

    def default_filters(self):
        yield from super().default_filters()
        yield ("latex2mathml", latex_output_to_mathml)
        yield ("inline_markdown", inline_markdown)
        yield ("points", points)
