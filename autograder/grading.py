"""The instructor pipeline: release, autograde, feedback.

Each step is nbgrader's own (`NbGraderAPI`) run with the course configuration
of `autograder.course`, so plain `nbgrader` commands and `optimlab-grade` do
exactly the same thing; this module only strings the steps together for a
whole folder of submissions.
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.collect import Submission, place
from autograder.course import ASSIGNMENTS, nbgrader_config, notebook_name


class GradingError(Exception):
    """A step of the pipeline failed for a reason the instructor must fix."""


@dataclass
class Result:
    """What grading one submission produced."""

    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    manual_pending: float = 0.0   # points of written answers awaiting a grader
    problem: str | None = None    # the one sentence when it could not be graded
    feedback: Path | None = None
    checks: list[dict] = field(default_factory=list)  # per hidden-test cell: score, diagnoses


def _commands_on_path() -> None:
    """Puts this interpreter's scripts folder on PATH.

    nbgrader runs the `alembic` command by name when it opens a gradebook, so
    it must be found even when the virtual environment is not activated.
    """
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def _api(course_dir: Path, release_dir: Path = ASSIGNMENTS):
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning

    _commands_on_path()
    # nbgrader's own gradebook code triggers these on every submission; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    api = NbGraderAPI(config=nbgrader_config(course_dir, release_dir))
    api.log.setLevel(logging.ERROR)
    return api


def _checked(result: dict, what: str) -> None:
    if not result.get("success"):
        detail = (result.get("error") or result.get("log") or "").strip().splitlines()
        raise GradingError(f"{what} failed: {detail[-1] if detail else 'no details'}")


def release(assignments: list[str], course_dir: Path, release_dir: Path = ASSIGNMENTS) -> None:
    """Generates the student version of each assignment into `release_dir`.

    This also records the assignment (its cells, points and checksums) in the
    course's gradebook, which autograding needs.
    """
    api = _api(course_dir, release_dir)
    for assignment in assignments:
        _checked(api.generate_assignment(assignment, force=True, create=True),
                 f"Releasing {assignment}")


def register(assignments: list[str], course_dir: Path) -> None:
    """Records the assignments in the gradebook of `course_dir` without touching assignments/."""
    with tempfile.TemporaryDirectory() as scratch:
        release(assignments, course_dir, Path(scratch))


def _read_result(course_dir: Path, sub: Submission) -> Result:
    """Scores from the gradebook and per-check details from the autograded notebook."""
    from nbgrader.api import Gradebook, MissingEntry

    result = Result(sub.student, sub.assignment, problem=sub.problem)
    config = nbgrader_config(course_dir)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        try:
            submission = gb.find_submission(sub.assignment, sub.student)
        except MissingEntry:
            return result
        result.score = submission.score
        result.max_score = submission.max_score
        result.manual_pending = sum(g.max_score for nb in submission.notebooks for g in nb.grades
                                    if g.needs_manual_grade)
    graded = course_dir / "autograded" / sub.student / sub.assignment / notebook_name(sub.assignment)
    if graded.exists():
        nb = nbformat.read(graded, as_version=4)
        result.checks = [dict(c.metadata["optimlab"]) for c in nb.cells if "optimlab" in c.metadata]
    html = course_dir / "feedback" / sub.student / sub.assignment / notebook_name(sub.assignment)
    html = html.with_suffix(".html")
    result.feedback = html if html.exists() else None
    return result


def _record_zero(course_dir: Path, sub: Submission) -> None:
    """Records a submission that could not be graded with zero points, so it has its gradebook row."""
    from nbgrader.api import Gradebook, MissingEntry

    config = nbgrader_config(course_dir)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        try:
            gb.find_submission(sub.assignment, sub.student)
            return  # nbgrader recorded what it could; keep it
        except MissingEntry:
            pass
        gb.update_or_create_student(sub.student)
        submission = gb.update_or_create_submission(sub.assignment, sub.student, timestamp=sub.timestamp)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gb.db.commit()


def grade(sub: Submission, course_dir: Path) -> Result:
    """Autogrades one submission and writes its feedback; never raises for a bad submission."""
    place(sub, course_dir)
    if sub.problem is None:
        api = _api(course_dir)
        outcome = api.autograde(sub.assignment, sub.student, force=True, create=True)
        if not outcome.get("success"):
            lines = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
            sub.problem = f"Autograding failed: {lines[-1] if lines else 'no details'}"
        else:
            api.generate_feedback(sub.assignment, sub.student, force=True)
    if sub.problem is not None:
        _record_zero(course_dir, sub)
    return _read_result(course_dir, sub)


def grade_all(subs: list[Submission], course_dir: Path) -> list[Result]:
    """Grades every submission in turn; the assignments are registered first."""
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    assignments = sorted({s.assignment for s in subs if s.assignment})
    if assignments:
        register(assignments, course_dir)
    return [grade(sub, course_dir) for sub in subs if sub.assignment]


def reset_course(course_dir: Path) -> None:
    """Removes the grading state of `course_dir` (gradebook and nbgrader folders)."""
    for name in ("submitted", "autograded", "feedback", "summary"):
        shutil.rmtree(course_dir / name, ignore_errors=True)
    (course_dir / "gradebook.db").unlink(missing_ok=True)
