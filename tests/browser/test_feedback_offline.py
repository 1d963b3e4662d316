"""The feedback HTML as a student opens it offline: a file, in Chromium, with the network cut.

A graded sample's feedback file is opened from disk with every request that
is not for the file itself refused (as on a train, or from a mail attachment):
the page must ask for nothing, typeset every formula of the notebook, style
the lecture's tables, name every question in its index and say which answers
await a grader. Screenshots go to build/screenshots/feedback_*.png.
"""
from __future__ import annotations

import nbformat
import pytest

from feedback_course import ASSIGNMENT, STUDENT, feedback_html, graded_course
from rendering import math_spans

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MATHML = "http://www.w3.org/1998/Math/MathML"
INDEX = ["svm_loss_naive", "svm_loss", "softmax_loss_naive", "softmax_loss", "Question 1", "Question 2",
         "loss_facts", "l2_reg", "l1_reg", "elastic_net_reg", "ridge_fit", "Question 3"]


@pytest.fixture(scope="module")
def offline_page(browser):
    """The feedback page, opened as a file, with every other request refused: (page, refused URLs)."""
    html = feedback_html(graded_course())
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    refused: list[str] = []

    def only_the_file(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    yield page, refused
    context.close()


def _formulas_in_the_notebook() -> int:
    """How many formulas the graded notebook's Markdown holds (master cells and the student's)."""
    graded = graded_course() / "autograded" / STUDENT / ASSIGNMENT / feedback_html(graded_course()).with_suffix(".ipynb").name
    nb = nbformat.read(graded, as_version=4)
    return sum(math_spans(c.source) for c in nb.cells if c.cell_type == "markdown")


def test_the_page_asks_for_nothing_and_typesets_every_formula(offline_page, screenshots):
    page, refused = offline_page
    assert refused == []
    maths = page.evaluate("""(ns) => Array.from(document.querySelectorAll('math')).map(m => ({
        mathml: m.namespaceURI === ns, display: getComputedStyle(m).display,
        width: m.getBoundingClientRect().width, height: m.getBoundingClientRect().height}))""", MATHML)
    assert len(maths) == _formulas_in_the_notebook() > 60
    assert all(m["mathml"] and m["display"] in ("math", "inline math", "block math") for m in maths)
    assert all(m["width"] > 0 and m["height"] > 0 for m in maths), "a formula is not laid out"
    fractions = page.evaluate("""Array.from(document.querySelectorAll('mfrac')).map(f => {
        const [num, den] = f.children; return num.getBoundingClientRect().bottom <= den.getBoundingClientRect().top + 1; })""")
    assert fractions and all(fractions), "a fraction is not drawn as numerator over denominator"
    prose = page.evaluate("""() => { const copy = document.body.cloneNode(true);
        copy.querySelectorAll('math, pre, code, .input_area, .output_wrapper').forEach(e => e.remove());
        return copy.innerText; }""")
    for tex in ("$", "\\frac", "\\lambda", "\\sum", "\\max"):
        assert tex not in prose, f"raw TeX {tex!r} shown as text"
    page.screenshot(path=str(screenshots("feedback_top")))


def test_the_lectures_table_is_styled(offline_page, screenshots):
    page, _ = offline_page
    table = page.locator(".rendered_html table", has_text="frog image").first
    cell = table.locator("td", has_text="cat image")
    style = cell.evaluate("""td => { const s = getComputedStyle(td);
        return {padding: parseFloat(s.paddingLeft), border: parseFloat(s.borderLeftWidth)}; }""")
    assert style["padding"] >= 4 and style["border"] >= 1
    header = table.locator("th").all_inner_texts()
    assert header == ["image", "cat", "car", "frog", "label"]
    widths = [td.bounding_box()["width"] for td in table.locator("tbody tr").first.locator("td").all()]
    assert len(widths) == 5 and min(widths) > 30, "the cells run together"
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots("feedback_table")))


def test_the_index_names_every_question_and_what_awaits_a_grader(offline_page, screenshots):
    page, _ = offline_page
    rows = page.locator("table.index tbody tr")
    assert rows.locator("td:first-child a").all_inner_texts() == INDEX
    scores = rows.locator("td:last-child").all_inner_texts()
    assert [s for s, name in zip(scores, INDEX) if name.startswith("Question")] == ["awaiting a grader (2 points)"] * 3
    assert scores[INDEX.index("softmax_loss")] == "Score: 0 / 4"
    page.get_by_role("link", name="softmax_loss", exact=True).click()
    panel = page.locator("#test_softmax_loss")
    assert "Hidden tests of softmax_loss" in panel.locator(".panel-heading").inner_text()
    assert "Out[" not in panel.inner_text()
    page.screenshot(path=str(screenshots("feedback_hidden_tests")))
    page.locator("#answer_compare").scroll_into_view_if_needed()
    assert "awaiting a grader (2 points)" in page.locator("#answer_compare .panel-heading").inner_text()
    page.screenshot(path=str(screenshots("feedback_written_answer")))
