"""The nbgrader exchange round trip, as a JupyterHub course runs it, with the real `nbgrader`
commands as separate processes: the instructor releases 01_losses into a fresh exchange folder, two
students fetch it in their own home folders, one hands in the right answers and one a known mistake,
the instructor collects, grades with `optimlab-grade grade`, generates and releases the feedback, and
each student fetches their own feedback and no one else's.

nbgrader names a student after the account that runs the command (on a hub: the student's own account,
or JUPYTERHUB_USER in a shared image). Both students here run under the test's account, so each gives
their id in their own configuration (`CourseDirectory.student_id`), as a hub administrator can; each has their own
home folder (and so their own nbgrader cache, which is what `fetch_feedback` matches feedback against).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import course
from autograder.grading import gradebook_results
from autograder.samples import reference_submission, with_replacements
from autograder.specs import losses as losses_spec

pytestmark = pytest.mark.slow

ASSIGNMENT = "01_losses"
NOTEBOOK = course.notebook_name(ASSIGNMENT)
BIN = Path(sys.executable).parent  # nbgrader and optimlab-grade of the test's environment
STUDENTS = ("alice", "bob")


def run(argv: list[str], cwd: Path, home: Path, user: str) -> str:
    """Runs one command as `user` would: own home folder, own user name; returns its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR")}
    env |= {"HOME": str(home), "USER": user, "LOGNAME": user, "JUPYTERHUB_USER": user,
            "PATH": os.pathsep.join([str(BIN), env["PATH"]])}  # as in an activated environment
    done = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{output[-4000:]}"
    return output


@pytest.fixture
def hub(tmp_path):
    """An exchange folder, an instructor's grading folder configured for it, and two students' homes."""
    exchange, grading = tmp_path / "exchange", tmp_path / "grading"
    grading.mkdir()
    # The instructor's grading folder: the course's configuration, with this exchange.
    (grading / "nbgrader_config.py").write_text(
        "from pathlib import Path\n"
        "from autograder.course import configure\n"
        "c = get_config()\n"
        "configure(c, course_dir=Path(__file__).parent)\n"
        f"c.Exchange.root = {str(exchange)!r}\n")
    homes = {}
    for student in STUDENTS:
        home = tmp_path / "home" / student
        (home / ".jupyter").mkdir(parents=True)
        # What a hub puts into every student's server: where the exchange is, and which course.
        (home / ".jupyter" / "nbgrader_config.py").write_text(
            "c = get_config()\n"
            f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.CourseDirectory.course_id = {course.COURSE_ID!r}\n"
            f"c.CourseDirectory.student_id = {student!r}\n")
        homes[student] = home
    return exchange, grading, homes


def _answer(fetched: Path, student: str) -> None:
    """The student's work: every answer cell filled in, bob with the SVM loss's classic mistake."""
    nb = reference_submission(ASSIGNMENT, fetched.parent)
    if student == "bob":
        nb = with_replacements(nb, {"svm_loss": losses_spec.svm_includes_correct_class})
    nbformat.write(nb, fetched / NOTEBOOK)


def test_release_fetch_submit_collect_grade_and_feedback_round_trip(hub):
    exchange, grading, homes = hub
    instructor_home = grading
    run(["nbgrader", "release_assignment", ASSIGNMENT], grading, instructor_home, "instructor")
    assert (exchange / course.COURSE_ID / "outbound" / ASSIGNMENT / NOTEBOOK).read_bytes() == \
        (course.ASSIGNMENTS / ASSIGNMENT / NOTEBOOK).read_bytes()

    for student, home in homes.items():
        run(["nbgrader", "fetch_assignment", ASSIGNMENT], home, home, student)
        fetched = home / ASSIGNMENT
        assert (fetched / NOTEBOOK).read_bytes() == (course.ASSIGNMENTS / ASSIGNMENT / NOTEBOOK).read_bytes()
        _answer(fetched, student)
        run(["nbgrader", "submit", ASSIGNMENT], home, home, student)

    run(["nbgrader", "collect", ASSIGNMENT], grading, instructor_home, "instructor")
    for student in STUDENTS:
        assert (grading / "submitted" / student / ASSIGNMENT / NOTEBOOK).is_file()

    graded = run(["optimlab-grade", "grade", str(grading / "submitted"), "--course-dir", str(grading),
                  "--workers", "2"], grading, instructor_home, "instructor")
    grades = {r.student: r for r in gradebook_results(grading)}
    assert set(grades) == set(STUDENTS), graded
    assert (grades["alice"].score, grades["alice"].max_score) == (25.0, 31.0), graded
    assert grades["bob"].score == 22.0, graded
    missed = [c for c in grades["bob"].checks if c["score"] < c["points"]]
    assert len(missed) == 1 and any("the sum includes j = y_i" in d for d in missed[0]["diagnoses"]), missed
    print(f"\nexchange round trip grades: alice {grades['alice'].score:g} and bob {grades['bob'].score:g} "
          f"of {grades['alice'].max_score:g} (6 points of written answers await the instructor)")

    run(["nbgrader", "generate_feedback", ASSIGNMENT, "--force"], grading, instructor_home, "instructor")
    run(["nbgrader", "release_feedback", ASSIGNMENT], grading, instructor_home, "instructor")
    released = sorted((exchange / course.COURSE_ID / "feedback").glob("*.html"))
    assert len(released) == 2, "one page per student, named by a hash only the submitter can match"

    pages = {}
    for student, home in homes.items():
        run(["nbgrader", "fetch_feedback", ASSIGNMENT], home, home, student)
        mine = sorted((home / ASSIGNMENT / "feedback").rglob("*.html"))
        assert len(mine) == 1, f"{student} fetched {mine}"
        pages[student] = mine[0].read_text()
    assert pages["alice"] != pages["bob"]
    assert "the sum includes j = y_i" in pages["bob"] and "the sum includes j = y_i" not in pages["alice"]
    for student, page in pages.items():
        own = (grading / "feedback" / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
        assert page == own, f"{student} got someone else's feedback"
