"""The grading pipeline end to end: real nbgrader, real kernels, the sample class.

Scores from the kernel pipeline must equal the kernel-free scoring of the same
samples (tests/sample_grading.py), feedback must show diagnoses but never the
hidden tests' source, and bad input must cost one sentence, not the batch.
"""
import contextlib
import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.collect import find_submissions
from autograder.course import SAMPLES, assignment_ids
from autograder.grading import grade_all
from sample_grading import autograded_total, grade_sample

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_losses"


def _class_under_test(folder: Path) -> list[Path]:
    """Every sample of 01; the reference, the untouched and one buggy sample of the others
    (all samples of every assignment are scored without a kernel in test_samples_*.py)."""
    chosen = []
    for assignment in assignment_ids():
        samples = sorted((SAMPLES / assignment).glob("*.ipynb"))
        if assignment != ASSIGNMENT:
            buggy = [p for p in samples if p.stem not in ("reference", "untouched")][:1]
            samples = [p for p in samples if p.stem in ("reference", "untouched")] + buggy
        for path in samples:
            (folder / assignment).mkdir(parents=True, exist_ok=True)
            chosen.append(Path(shutil.copy(path, folder / assignment / path.name)))
    return chosen


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The sample class, graded once."""
    course = tmp_path_factory.mktemp("course")
    folder = tmp_path_factory.mktemp("class")
    chosen = _class_under_test(folder)
    results = grade_all(find_submissions(folder), course, workers=2)
    return course, {(r.student, r.assignment): r for r in results}, chosen


def test_samples_are_graded_as_without_a_kernel(graded_class):
    _, results, chosen = graded_class
    assert len(results) == len(chosen)
    for path in chosen:
        assignment = path.parent.name
        result = results[(path.stem, assignment)]
        assert result.problem is None, result.problem
        assert result.score == pytest.approx(autograded_total(grade_sample(assignment, path.stem)), abs=1e-9)


def test_reference_gets_every_autograded_point_and_awaits_manual_grading(graded_class):
    _, results, _ = graded_class
    reference = results[("reference", ASSIGNMENT)]
    assert reference.score == 25.0 and reference.max_score == 31.0 and reference.manual_pending == 6.0
    assert all(c["score"] == c["points"] for c in reference.checks)


def test_feedback_shows_diagnoses_but_not_the_hidden_tests(graded_class):
    course, results, _ = graded_class
    html = results[("softmax_overflow", ASSIGNMENT)].feedback.read_text()
    assert "softmax_loss: 5 of 6 hidden test cases passed" in html
    assert "overflows for large scores" in html
    assert "FAILED scores of magnitude 1e3" in html
    for feedback in (course / "feedback").rglob("*.html"):
        text = feedback.read_text()
        assert "HIDDEN TESTS" not in text and "submit(" not in text and "harness" not in text


def test_untouched_notebook_scores_zero_with_a_reason_per_question(graded_class):
    _, results, _ = graded_class
    untouched = results[("untouched", ASSIGNMENT)]
    assert untouched.score == 0.0
    html = untouched.feedback.read_text()
    assert html.count("raised NotImplementedError") == 8  # every function
    assert "expected a float, got None" in html          # the facts left as None


def _class_folder(tmp_path: Path) -> Path:
    """A flat folder as an LMS exports it: notebooks, zips and broken files."""
    flat = tmp_path / "flat"
    flat.mkdir()
    reference = SAMPLES / ASSIGNMENT / "reference.ipynb"
    shutil.copy(reference, flat / "alice.ipynb")
    with zipfile.ZipFile(flat / "bob.zip", "w") as zf:
        zf.write(reference, "my work/losses (1).ipynb")
        zf.writestr("../../escaped.txt", "a member that points outside")
    with zipfile.ZipFile(flat / "gina.zip", "w") as zf:
        zf.write(reference, "a.ipynb")
        zf.write(reference, "b.ipynb")
    (flat / "carol.ipynb").write_text("")
    (flat / "dave.ipynb").write_text('{"cells": [')
    (flat / "erin.ipynb").write_text(json.dumps({"cells": [], "nbformat": 3}))
    return flat


@pytest.fixture(scope="module")
def flat_class(tmp_path_factory):
    """The flat folder graded by `optimlab-grade grade`: (folder, course, what it printed)."""
    tmp_path = tmp_path_factory.mktemp("flat")
    flat = _class_folder(tmp_path)
    course = tmp_path / "course"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["grade", str(flat), "--course-dir", str(course)]) == 0
    return flat, course, out.getvalue()


def _csv_rows(path: Path) -> dict[str, dict]:
    return {r["student"]: r for r in csv.DictReader(path.open())}


def test_a_flat_folder_with_broken_files_is_graded_row_by_row(flat_class):
    flat, course, out = flat_class
    rows = _csv_rows(course / "class_grades.csv")
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "gina"}
    assert rows["alice"]["score"] == rows["bob"]["score"] == "25.00"
    expected = {"carol": "carol.ipynb is empty.",
                "dave": "dave.ipynb is not a notebook (it is not valid JSON); resubmit the .ipynb file.",
                "erin": "erin.ipynb is not a Jupyter notebook in format 4; resubmit the .ipynb file.",
                "gina": "gina.zip must contain exactly one notebook (.ipynb); it contains 2."}
    for student, problem in expected.items():
        assert rows[student]["score"] == "0.00" and rows[student]["max_score"] == "31"
        assert rows[student]["problem"] == problem
    assert not list(flat.parent.parent.rglob("escaped.txt"))
    assert "summary.md" in out


def test_report_reads_the_gradebook_with_manual_grades_and_later_batches(flat_class, tmp_path, capsys):
    from nbgrader.api import Gradebook

    _, graded, _ = flat_class
    course = Path(shutil.copytree(graded, tmp_path / "course"))
    (course / "nbgrader_config.py").unlink()   # it names the original folder; grading writes a new one
    at_grading = (course / "class_grades.csv").read_text()
    (course / "class_grades.csv").unlink()

    # Without new grades, the report rebuilds exactly what grading wrote, problems included.
    assert main(["report", "--course-dir", str(course)]) == 0
    assert (course / "class_grades.csv").read_text() == at_grading
    assert "12 points of written answers still to grade" in capsys.readouterr().out   # alice's and bob's

    # A grader marks one written answer (as the formgrader does): the report has it, no kernel needed.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="optimlab") as gb:
        grade = gb.find_grade("answer_compare", "losses", ASSIGNMENT, "alice")
        grade.manual_score = 1.5
        grade.needs_manual_grade = False
        gb.db.commit()
    assert main(["report", "--course-dir", str(course)]) == 0
    rows = _csv_rows(course / "class_grades.csv")
    assert (rows["alice"]["score"], rows["alice"]["manual_pending"]) == ("26.50", "4")
    assert (rows["bob"]["score"], rows["bob"]["manual_pending"]) == ("25.00", "6")
    summary = (course / "summary" / "summary.md").read_text()
    assert "10 points of written answers not yet graded" in summary

    # A later batch (dave resubmits a notebook, alice the same one) keeps the grader's points and
    # leaves everyone else in the class files.
    resubmitted = tmp_path / "late"
    resubmitted.mkdir()
    for student in ("dave", "alice"):
        shutil.copy(SAMPLES / ASSIGNMENT / "reference.ipynb", resubmitted / f"{student}.ipynb")
    assert main(["grade", str(resubmitted), "--course-dir", str(course), "--assignment", ASSIGNMENT]) == 0
    rows = _csv_rows(course / "class_grades.csv")
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin", "gina"}
    assert (rows["dave"]["score"], rows["dave"]["problem"]) == ("25.00", "")
    assert rows["alice"]["score"] == "26.50" and rows["carol"]["problem"] == "carol.ipynb is empty."


def test_report_without_a_gradebook_is_one_sentence(tmp_path, capsys):
    assert main(["report", "--course-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"optimlab-grade: There is no gradebook in {tmp_path.resolve()}: grade the submissions first."


def test_nbgrader_layout_and_a_self_learners_single_notebook(tmp_path, capsys):
    submitted = tmp_path / "submitted" / "frank" / ASSIGNMENT
    submitted.mkdir(parents=True)
    shutil.copy(SAMPLES / ASSIGNMENT / "ridge_bias_free.ipynb", submitted / "losses.ipynb")
    (submitted / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    results = grade_all(find_submissions(tmp_path / "submitted"), tmp_path / "course")
    assert [(r.student, r.score) for r in results] == [("frank", 22.6)]

    mine = tmp_path / "my_losses.ipynb"
    shutil.copy(SAMPLES / ASSIGNMENT / "softmax_sums.ipynb", mine)
    assert main(["grade", str(mine), "--course-dir", str(tmp_path / "self")]) == 0
    out = capsys.readouterr().out
    assert "self" in out and "21.66" in out
    assert (tmp_path / "self" / "feedback" / "self" / ASSIGNMENT / "losses.html").exists()


@pytest.mark.parametrize("argv,sentence", [
    (["grade", "/nonexistent/folder"], "/nonexistent/folder does not exist."),
    (["release", "99_nothing"], "There is no assignment '99_nothing'"),
])
def test_user_errors_are_one_sentence(argv, sentence, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"optimlab-grade: {sentence}") and "\n" not in err and "Traceback" not in err
