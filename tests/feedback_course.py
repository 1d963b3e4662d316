"""One sample submission graded with nbgrader, once per test session, for the feedback tests.

tests/test_feedback.py reads its HTML; tests/browser/test_feedback_offline.py
opens it in Chromium. Grading takes kernels and seconds, so both share it.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from autograder.course import SAMPLES, master_notebook

ASSIGNMENT, STUDENT = "01_losses", "half_done"  # failed, partial and full hidden tests; three written answers


@lru_cache(maxsize=None)
def graded_course() -> Path:
    """A fresh course folder holding the graded sample (gradebook, autograded/, feedback/)."""
    from autograder.collect import find_submissions
    from autograder.grading import grade_all

    scratch = Path(tempfile.mkdtemp(prefix="feedback-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    folder = scratch / "class" / ASSIGNMENT
    folder.mkdir(parents=True)
    shutil.copy(SAMPLES / ASSIGNMENT / f"{STUDENT}.ipynb", folder)
    [result] = grade_all(find_submissions(folder.parent), scratch / "course", workers=1)
    assert result.problem is None and result.feedback, result.problem
    return scratch / "course"


def feedback_html(course: Path) -> Path:
    """Where the sample's feedback HTML is in `course`."""
    return course / "feedback" / STUDENT / ASSIGNMENT / master_notebook(ASSIGNMENT).with_suffix(".html").name
