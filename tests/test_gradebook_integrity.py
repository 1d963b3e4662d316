"""Grading a class in parallel, killing the grader mid-batch, rerunning, resubmitting:
the gradebook always ends with one correct grade per student."""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.collect import find_submissions
from autograder.course import SAMPLES
from autograder.grading import grade_all

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_losses"
CLASS = {"ann": "reference", "ben": "softmax_sums"}
EXPECTED = {"ann": 25.0, "ben": 21.66}


def _class_folder(folder: Path, students: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for student, sample in students.items():
        shutil.copy(SAMPLES / ASSIGNMENT / f"{sample}.ipynb", folder / f"{student}.ipynb")
    return folder


def _scores(results) -> dict[str, tuple]:
    return {r.student: (r.score, r.max_score, tuple((c["check"], c["score"], tuple(c["diagnoses"]))
                                                     for c in r.checks)) for r in results}


def _gradebook_rows(course: Path) -> list[tuple]:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("SELECT student.id FROM submitted_assignment JOIN student "
                          "ON submitted_assignment.student_id = student.id").fetchall()


def test_parallel_grading_equals_sequential(tmp_path):
    folder = _class_folder(tmp_path / "class", CLASS)
    sequential = grade_all(find_submissions(folder), tmp_path / "one", workers=1)
    parallel = grade_all(find_submissions(folder), tmp_path / "two", workers=2)
    assert _scores(sequential) == _scores(parallel)
    assert {r.student: r.score for r in parallel} == pytest.approx(EXPECTED)


def test_a_killed_batch_reruns_to_every_grade_once(tmp_path):
    folder = _class_folder(tmp_path / "class", CLASS)
    course = tmp_path / "course"
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(folder), "--course-dir",
                               str(course), "--workers", "2"], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((course / "feedback").glob("*/*/*.html")):
        time.sleep(0.2)
    os.killpg(grader.pid, signal.SIGKILL)  # the grader, its workers and their kernels
    grader.wait()
    assert list((course / "feedback").glob("*/*/*.html")), "the batch was under way when killed"

    rerun = grade_all(find_submissions(folder), course, workers=2)
    assert {r.student: r.score for r in rerun} == pytest.approx(EXPECTED)
    assert sorted(_gradebook_rows(course)) == sorted((s,) for s in CLASS)

    again = grade_all(find_submissions(folder), course, workers=2)  # reruns change nothing
    assert _scores(again) == _scores(rerun)
    assert sorted(_gradebook_rows(course)) == sorted((s,) for s in CLASS)


def test_a_resubmission_replaces_the_earlier_one_by_timestamp(tmp_path):
    course = tmp_path / "course"
    folder = tmp_path / "inbox"

    def hand_in(sample: str, when: float):
        shutil.rmtree(folder, ignore_errors=True)
        _class_folder(folder, {"ann": sample})
        os.utime(folder / "ann.ipynb", (when, when))
        [result] = grade_all(find_submissions(folder), course)
        return result

    now = time.time()
    assert hand_in("softmax_sums", now - 3600).score == pytest.approx(21.66)
    assert hand_in("reference", now).score == 25.0                # newer: replaces
    stale = hand_in("untouched", now - 7200)                      # older: ignored
    assert stale.score == 25.0 and "older submission was not graded" in stale.notes[-1]
    assert _gradebook_rows(course) == [("ann",)]


def test_of_two_files_of_one_student_the_newest_is_graded():
    import datetime as dt
    from autograder.collect import Submission
    from autograder.grading import _latest

    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    subs = [Submission("ann", ASSIGNMENT, Path(f"ann_v{i}.ipynb"), t0 + dt.timedelta(hours=h))
            for i, h in enumerate((2, 5, 1))] + [Submission("ben", ASSIGNMENT, Path("ben.ipynb"), t0)]
    assert sorted(s.path.name for s in _latest(subs)) == ["ann_v1.ipynb", "ben.ipynb"]
