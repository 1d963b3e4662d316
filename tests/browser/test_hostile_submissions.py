"""Hostile submissions, graded into the server's course, run nothing where the instructor and the
student read them: the formgrader's view of the submission and the feedback HTML, served by the
server and opened as a file.

The submissions are the adversarial corpus's `hostile_outputs` and `hostile_answers`
(autograder/adversarial/payloads.py): 32 payloads in outputs, written answers, a Markdown cell
the student added and widget state. Each payload that ran would call a setter on `top.__pwned`,
post a message, request or navigate to a URL holding `pwned-<tag>`, or write `pwned-<tag>.txt`
through the contents API with the page's XSRF cookie; the page records all of these, and the test
also clicks every javascript: link it finds.
"""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from urllib.parse import unquote

import nbformat
import pytest

from autograder.adversarial import CORPUS
from autograder.adversarial.payloads import MARKER
from autograder.course import ASSIGNMENTS
from conftest import GRADING

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ASSIGNMENT, NOTEBOOK = "01_losses", "losses"
STUDENTS = ("hostile_outputs", "hostile_answers")
VIEWS = ("formgrader", "feedback served", "feedback file")

# In every frame, before any of the page's scripts: report what a payload leaves behind.
RECORDER = """(() => {
  const report = tag => window.top.__optimlabReport && window.top.__optimlabReport(String(tag));
  let marks = [];
  try {
    Object.defineProperty(window, '__pwned', {get: () => marks, set: value => {
      marks = value; [].concat(value).forEach(report); }});
  } catch (e) {}
  window.addEventListener('message', event => {
    const data = String(event.data);
    if (data.startsWith('%(marker)s')) report(data.slice(%(length)d));
  });
})();""" % {"marker": MARKER, "length": len(MARKER)}
CLICK_SCRIPT_LINKS = """() => [...document.querySelectorAll('a[href]')]
    .filter(a => a.protocol === 'javascript:').map(a => { a.click(); return a.textContent; })"""


def _tag(url: str) -> str | None:
    """The payload tag in a URL holding `pwned-<tag>`."""
    url = unquote(url)
    if MARKER not in url:
        return None
    rest = url.split(MARKER, 1)[1]
    return "".join(itertools.takewhile(str.isalnum, rest)) or "?"


def _written_answer() -> str:
    """The first words of the reference's written answer, as shown (both submissions keep it)."""
    from autograder.adversarial import _answer, _reference

    before_math = _answer(_reference(), "answer_unique").source.split("$")[0]
    return before_math.split("\n\n")[-1].strip()   # its last paragraph (a bold heading may come first)


def _hidden_test_cell() -> tuple[str, float]:
    """(grade id, points) of the first hidden-test cell of the assignment."""
    nb = nbformat.read(ASSIGNMENTS / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
                and not c.metadata["nbgrader"].get("solution"))
    return cell.metadata.nbgrader["grade_id"], float(cell.metadata.nbgrader["points"])


@pytest.fixture(scope="module")
def hostile(jupyter_server, tmp_path_factory):
    """The two hostile submissions graded into the server's course: {student: result}."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / ASSIGNMENT).mkdir()
    for student in STUDENTS:
        shutil.copy(CORPUS / ASSIGNMENT / f"{student}.ipynb", folder / ASSIGNMENT)
    graded = subprocess.run([sys.executable, "-c", GRADING, str(folder), str(jupyter_server.course), "2"],
                            env=jupyter_server.env, capture_output=True, text=True, timeout=600)
    assert graded.returncode == 0, f"grading the hostile submissions failed:\n{graded.stderr[-3000:]}"
    return {r["student"]: r for r in json.loads(graded.stdout.strip().splitlines()[-1])}


class Traces:
    """Everything a payload could leave behind in one browser context."""

    def __init__(self, context, server):
        self.fired: set[str] = set()
        self.local = (server.url, "file:", "data:", "about:", "blob:")
        context.expose_binding("__optimlabReport", lambda source, tag: self.fired.add(tag))
        context.add_init_script(RECORDER)
        context.on("request", lambda request: self._seen(request.url))
        context.route("**/*", self._route)

    def _seen(self, url: str) -> None:
        tag = _tag(url)
        if tag:
            self.fired.add(tag)

    def _route(self, route) -> None:
        """Requests to a payload's URL are recorded and answered "204 No Content", which leaves
        the page where it is (a navigation away would hide the other payloads); nothing leaves
        the machine."""
        url = route.request.url
        self._seen(url)
        if _tag(url) and "/api/contents/" not in url:   # a write goes to the server: the test looks for the file
            route.fulfill(status=204)
        elif url.startswith(self.local):
            route.continue_()
        else:
            route.abort()


def _open(browser, server, url: str, log_in: bool):
    """A fresh browser context (no marker, cookie or cache of another view) showing `url`,
    logged in first as the instructor is (the session cookie the formgrader's own requests
    need) if `log_in`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)   # the formgrader renders the notebook on request: slow on a busy machine
    traces = Traces(context, server)
    page = context.new_page()
    page.on("framenavigated", lambda frame: traces._seen(frame.url))
    if log_in:
        page.goto(f"{server.url}/login")
        page.locator("#password_input").fill(server.token)
        page.locator("#login_submit").click()
        page.wait_for_url(lambda address: "/login" not in address)
    page.goto(url, wait_until="domcontentloaded")   # payloads run as the page is parsed
    return context, page, traces


def _settle_and_click(page) -> None:
    """Gives timers, refreshes and frames time to fire, then clicks every javascript: link."""
    page.wait_for_timeout(1500)
    page.evaluate(CLICK_SCRIPT_LINKS)
    page.wait_for_timeout(500)


def _written_files(server) -> list[str]:
    """Files the payloads wrote through the contents API (removed, so each view counts its own)."""
    written = sorted(server.root.rglob(f"{MARKER}*"))
    for path in written:
        path.unlink()
    return [path.name for path in written]


def _what_is_missing(page, view: str, answer: str, grade: tuple[str, float], total: str) -> list[str]:
    """What the page fails to show of the student's written answer and grade (a payload that
    broke the page shows here too)."""
    from playwright.sync_api import Error

    missing = []
    try:
        if view == "formgrader":   # the formgrader's own scripts fill in the grades
            page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded",
                                   timeout=60_000)
            shown = page.locator(f"input.score#{grade[0]}").get_attribute("placeholder", timeout=5_000)
            if float(shown) != grade[1]:
                missing.append(f"the hidden tests' score shows {shown!r}, not {grade[1]:g}")
        elif total not in page.locator("span.total").inner_text(timeout=5_000):
            missing.append(f"the total is not {total}")
        if answer not in " ".join(page.locator("body").inner_text(timeout=5_000).split()):
            missing.append("no written answer")
    except Error as exc:
        missing.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    return missing


@pytest.mark.parametrize("student", STUDENTS)
def test_hostile_submissions_run_nothing_where_they_are_read(student, hostile, jupyter_server, browser, screenshots):
    from nbgrader.api import Gradebook

    server, result = jupyter_server, hostile[student]
    assert result["problem"] is None and result["score"] == result["max_score"] - 6   # written answers await a grader
    total = f"{result['score']:g} / {result['max_score']:g}"
    with Gradebook(f"sqlite:///{server.course / 'gradebook.db'}", course_id="optimlab") as gb:
        submission_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).id
    feedback = server.course / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
    urls = {"formgrader": f"{server.url}/formgrader/submissions/{submission_id}/",
            "feedback served": f"{server.url}/files/{feedback.relative_to(server.root)}?token={server.token}",
            "feedback file": feedback.as_uri()}
    fired, missing = {}, {}
    for view, url in urls.items():
        context, page, traces = _open(browser, server, url, log_in=view == "formgrader")
        try:
            missing[view] = _what_is_missing(page, view, _written_answer(), _hidden_test_cell(), total)
            _settle_and_click(page)
            page.screenshot(path=str(screenshots(f"hostile_{student}_{view.replace(' ', '_')}")), full_page=True)
        finally:
            context.close()
        files = _written_files(server)
        fired[view] = sorted(traces.fired | {_tag(name) for name in files})
        if files:
            fired[view].append(f"files {files}")
    counts = {view: len(tags) for view, tags in fired.items()}
    print(f"{student}: payloads that ran per view {counts}: {fired}; missing: {missing}")
    assert not any(fired.values()), f"payloads ran ({counts}): {fired}"
    assert not any(missing.values()), f"the pages do not show the student's work: {missing}"
