"""An instructor grades a written answer in the formgrader, opened from JupyterLab's
Nbgrader menu, and the points reach the gradebook, `nbgrader export` and, through
`optimlab-grade report`, class_grades.csv."""
import csv
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.course import SAMPLES

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ASSIGNMENT, NOTEBOOK = "01_losses", "losses"
STUDENT, ANSWER, POINTS = "half_done", "answer_compare", 1.5


def _student_answer() -> str:
    """The first words of the student's written answer (before any formula), without the
    bold "Your answer to Question N:" label above it, whitespace folded as the page shows it."""
    nb = nbformat.read(SAMPLES / ASSIGNMENT / f"{STUDENT}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER]
    paragraphs = [p for p in cell.source.split("\n\n") if p.strip() and not p.startswith("**Your answer")]
    return " ".join(paragraphs[0].split("$")[0].split())


def test_a_manual_grade_reaches_the_gradebook_and_the_exports(page, jupyter_server, class_grading, screenshots):
    from nbgrader.api import Gradebook

    assert class_grading.assignment == ASSIGNMENT and STUDENT in class_grading.students
    results = class_grading.results()
    assert set(results) == set(class_grading.students)
    assert all(r["problem"] is None and r["max_score"] == 31.0 for r in results.values())
    assert results[STUDENT]["manual_pending"] == 6.0   # three written answers of 2 points await a grader
    autograded = results[STUDENT]["score"]
    server = jupyter_server
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    page.get_by_role("menuitem", name="Formgrader").click()
    formgrader = page.frame_locator("iframe[src*='formgrader']")
    formgrader.get_by_role("link", name="Manual Grading").click()
    formgrader.get_by_role("link", name=ASSIGNMENT, exact=True).click()
    formgrader.get_by_role("link", name=NOTEBOOK, exact=True).click()
    row = formgrader.locator("table tbody tr").filter(
        has=formgrader.locator("a.name-shown", has_text=re.compile(f"^{STUDENT}$")))
    row.locator("td.reveal .glyphicon-eye-open").click()   # names are hidden until revealed
    row.get_by_role("link", name=STUDENT, exact=True).click()

    # The page shows the answers before its scripts have fetched the grades; a score typed
    # earlier is never saved, so wait until every score box is wired to its grade.
    frame = page.locator("iframe[src*='formgrader']").element_handle().content_frame()
    frame.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded"
                            " && formgrader.comments && formgrader.comments.loaded")
    score = formgrader.locator(f"input.score#{ANSWER}")
    answer_cell = formgrader.locator(".nbgrader_cell").filter(has=score)
    answer = _student_answer()
    assert answer and answer in " ".join(answer_cell.locator(".panel-body").inner_text().split())
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as saved:
        score.fill(str(POINTS))
        score.press("Tab")
    assert saved.value.ok, f"the formgrader could not save the grade: {saved.value.status}"
    assert saved.value.json()["manual_score"] == POINTS
    answer_cell.locator(".score-saved").wait_for()
    page.screenshot(path=str(screenshots("formgrader_manual_grade")))

    # The list of submissions shows the new written score.
    formgrader.get_by_role("link", name=NOTEBOOK, exact=True).click()
    written = row.locator("td.written-score")
    written.wait_for()
    assert written.inner_text().split() == [f"{POINTS:g}", "/", "6"]

    course = server.course
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="optimlab") as gb:
        grade = gb.find_grade(ANSWER, NOTEBOOK, ASSIGNMENT, STUDENT)
        assert grade.manual_score == POINTS and not grade.needs_manual_grade
        submission = gb.find_submission(ASSIGNMENT, STUDENT)
        assert submission.score == pytest.approx(autograded + POINTS, abs=1e-9)
        others = {s: gb.find_submission(ASSIGNMENT, s).score for s in results if s != STUDENT}
        assert others == {s: pytest.approx(results[s]["score"], abs=1e-9) for s in others}

    export = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course, env=server.env,
                            capture_output=True, text=True, timeout=120)
    assert export.returncode == 0, export.stderr[-2000:]
    # The session's course is shared: other browser tests may have graded more students into it.
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())
            if r["assignment"] == ASSIGNMENT and r["student_id"] in results}
    assert set(rows) == set(results)
    assert float(rows[STUDENT]["raw_score"]) == pytest.approx(autograded + POINTS, abs=1e-6)
    assert float(rows[STUDENT]["max_score"]) == 31.0

    # class_grades.csv comes from the gradebook: `optimlab-grade report` brings in the new grade
    # without a kernel, and the other students' rows are those of grading.
    report = subprocess.run([sys.executable, "-m", "autograder", "report", "--course-dir", str(course)],
                            env=server.env, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr[-2000:]
    rows = {r["student"]: r for r in csv.DictReader((course / "class_grades.csv").open())
            if r["student"] in results}
    assert set(rows) == set(results)
    assert (rows[STUDENT]["score"], rows[STUDENT]["manual_pending"]) == (f"{autograded + POINTS:.2f}", "4")
    for student, result in results.items():
        if student != STUDENT:
            assert (rows[student]["score"], rows[student]["manual_pending"]) == \
                (f"{result['score']:.2f}", f"{result['manual_pending']:g}")
