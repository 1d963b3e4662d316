"""An instructor grades a written answer in the formgrader, opened from JupyterLab's
Nbgrader menu, and the points reach the gradebook, `nbgrader export` and class_grades.csv."""
import csv
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.collect import find_submissions
from autograder.course import SAMPLES
from autograder.grading import grade_all
from autograder.report import write_csv

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ASSIGNMENT, NOTEBOOK = "01_losses", "losses"
STUDENT, ANSWER, POINTS = "half_done", "answer_compare", 1.5


def _student_answer() -> str:
    """The first words of the student's written answer (before any formula)."""
    nb = nbformat.read(SAMPLES / ASSIGNMENT / f"{STUDENT}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER]
    return cell.source.split("$")[0].strip()


def test_a_manual_grade_reaches_the_gradebook_and_the_exports(page, jupyter_server, class_grading, screenshots,
                                                              tmp_path):
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
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())
            if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(results)
    assert float(rows[STUDENT]["raw_score"]) == pytest.approx(autograded + POINTS, abs=1e-6)
    assert float(rows[STUDENT]["max_score"]) == 31.0

    # class_grades.csv is written from grading results (autograder.report.write_csv), and only
    # grading makes results: grading the student again (safe: the submission is not older than
    # the gradebook's) must keep the manual grade and write it into the CSV.
    again = tmp_path / ASSIGNMENT
    again.mkdir(parents=True)
    shutil.copy2(class_grading.folder / ASSIGNMENT / f"{STUDENT}.ipynb", again / f"{STUDENT}.ipynb")
    (regraded,) = grade_all(find_submissions(tmp_path), course, workers=1)
    assert regraded.score == pytest.approx(autograded + POINTS, abs=1e-9)
    ours = write_csv([regraded], course / "class_grades.csv")
    (row,) = csv.DictReader(ours.open())
    assert (row["student"], row["score"], row["max_score"]) == (STUDENT, f"{autograded + POINTS:.2f}", "31")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="optimlab") as gb:
        assert gb.find_grade(ANSWER, NOTEBOOK, ASSIGNMENT, STUDENT).manual_score == POINTS
