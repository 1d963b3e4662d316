"""What a readable notebook page is: math typeset, plots legible, widgets drawn, no floods."""
from __future__ import annotations

import re

from lab_ui import WIDGET, Cell

# A plot drawn at less than this fraction of its size has text below about 9 px (matplotlib's
# 10 pt labels are 12.5 px at the inline backend's resolution), too small to read.
MIN_PLOT_SCALE = 0.75
MAX_OUTPUT_LINES = 60      # an output taller than this many lines floods the page
MAX_OUTPUT_HEIGHT = 1200   # px

CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
DISPLAY = re.compile(r"\$\$.+?\$\$", re.S)
INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?:[^$\\]|\\.)+?(?<!\\)\$")


def math_spans(markdown: str) -> int:
    """How many formulas ($...$ and $$...$$ outside code) a markdown cell holds."""
    text = CODE.sub("", markdown)
    display = len(DISPLAY.findall(text))
    return display + len(INLINE.findall(DISPLAY.sub("", text)))


def rendering_problems(cells: list[Cell], sources: list[str]) -> list[str]:
    """Everything on the page a reader could not read, one line per problem."""
    problems = []
    for cell, source in zip(cells, sources):
        where = f"cell {cell.index}"
        if cell.type == "markdown":
            expected = math_spans(source)
            if cell.math != expected:
                problems.append(f"{where}: {cell.math} formulas typeset, the markdown has {expected}")
            if cell.mathErrors:
                problems.append(f"{where}: MathJax errors {cell.mathErrors}")
            leftover = re.findall(r"\$|\\[A-Za-z]+", cell.prose)
            if leftover:
                problems.append(f"{where}: raw TeX shown as text: {leftover[:5]}")
        for image in cell.images:
            if not image["complete"] or image["natural"] == 0:
                problems.append(f"{where}: a plot did not load")
            elif image["shown"] < MIN_PLOT_SCALE * image["natural"]:
                problems.append(f"{where}: a plot {image['natural']} px wide is squeezed into "
                                f"{image['shown']:.0f} px ({image['shown'] / image['natural']:.0%}), "
                                f"its labels are unreadable")
        for output in cell.outputs:
            lines = output.text.count("\n") + 1
            if output.mime != "image/png" and (lines > MAX_OUTPUT_LINES or output.height > MAX_OUTPUT_HEIGHT):
                problems.append(f"{where}: an output of {lines} lines, {output.height:.0f} px floods the page")
            if output.mime == WIDGET and not output.widgets:
                problems.append(f"{where}: a widget was not drawn: {output.text[:80]!r}")
            if "Error displaying widget" in output.text or "Loading widget" in output.text:
                problems.append(f"{where}: a widget was not drawn: {output.text[:80]!r}")
    return problems
