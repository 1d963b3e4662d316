"""The instructor pipeline: release, autograde, feedback.

Each step is nbgrader's own (`NbGraderAPI`) run with the course configuration
of `autograder.course`, so plain `nbgrader` commands and `optimlab-grade` do
exactly the same thing; this module strings the steps together for a whole
folder of submissions, in parallel worker processes.

Why the gradebook survives anything: every submission is graded by nbgrader
in its own transactions on one SQLite file (writers wait for each other), a
submission is recorded under its (student, assignment) key and replaced, never
added twice, and a grader killed mid-batch leaves only whole submissions
behind; rerunning the batch grades everything again to the same result.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat

from autograder.collect import Submission, place
from autograder.course import ASSIGNMENTS, REPO_ROOT, Limits, nbgrader_config, notebook_name


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
    notes: list[str] = field(default_factory=list)    # limits the notebook hit and other remarks, one sentence each


def commands_on_path() -> None:
    """Puts this interpreter's scripts folder on PATH.

    nbgrader runs the `alembic` command by name when it creates a gradebook, so
    it must be found even when the virtual environment is not activated.
    """
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


@lru_cache(maxsize=None)
def _alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema, read in this process.

    nbgrader stamps every gradebook it creates with it, and asks a separate
    `alembic heads` process for it each time, which takes seconds.
    """
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = AlembicConfig()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def _stamp_gradebooks_in_process() -> None:
    """New gradebooks get their schema revision from `_alembic_head`, not from a subprocess."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = _alembic_head


def _api(course_dir: Path, release_dir: Path = ASSIGNMENTS, limits: Limits = Limits()):
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning

    commands_on_path()
    _stamp_gradebooks_in_process()
    # nbgrader's own gradebook code triggers these on every submission; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    api = NbGraderAPI(config=nbgrader_config(course_dir, release_dir, limits))
    api.log.setLevel(logging.ERROR)
    return api


def _gradebook(course_dir: Path):
    from nbgrader.api import Gradebook

    _stamp_gradebooks_in_process()
    config = nbgrader_config(course_dir)
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)


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


def _problem_file(course_dir: Path, student: str, assignment: str) -> Path:
    """Where the sentence of a submission that could not be graded is kept, beside its zero."""
    return course_dir / "autograded" / student / assignment / "problem.txt"


def _read_result(course_dir: Path, student: str, assignment: str) -> Result:
    """Scores from the gradebook (manual grades included) and the rest from the autograded files."""
    from nbgrader.api import MissingEntry

    problem = _problem_file(course_dir, student, assignment)
    result = Result(student, assignment, problem=problem.read_text().strip() if problem.exists() else None)
    with _gradebook(course_dir) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return result
        result.score = submission.score
        result.max_score = submission.max_score
        result.manual_pending = sum(g.max_score for nb in submission.notebooks for g in nb.grades
                                    if g.needs_manual_grade)
    graded = course_dir / "autograded" / student / assignment / notebook_name(assignment)
    if graded.exists() and result.problem is None:
        nb = nbformat.read(graded, as_version=4)
        result.checks = [dict(c.metadata["optimlab"]) for c in nb.cells if "optimlab" in c.metadata]
        result.notes = list(nb.metadata.get("optimlab", {}).get("limits", []))
    html = (course_dir / "feedback" / student / assignment / notebook_name(assignment)).with_suffix(".html")
    result.feedback = html if html.exists() and result.problem is None else None
    return result


def gradebook_results(course_dir: Path) -> list[Result]:
    """Every submission in the gradebook of `course_dir`, with the grades given since in the formgrader."""
    course_dir = Path(course_dir).resolve()
    if not (course_dir / "gradebook.db").exists():
        raise GradingError(f"There is no gradebook in {course_dir}: grade the submissions first.")
    with _gradebook(course_dir) as gb:
        keys = [(s.student.id, a.name) for a in gb.assignments for s in a.submissions]
    return [_read_result(course_dir, student, assignment) for student, assignment in keys]


def _record_zero(course_dir: Path, sub: Submission) -> None:
    """Records a submission that could not be graded with zero points, replacing any earlier grade."""
    with _gradebook(course_dir) as gb:
        gb.update_or_create_student(sub.student)
        submission = gb.update_or_create_submission(sub.assignment, sub.student, timestamp=sub.timestamp)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()
    for step in ("autograded", "feedback"):  # no stale files of an earlier submission
        shutil.rmtree(course_dir / step / sub.student / sub.assignment, ignore_errors=True)
    problem = _problem_file(course_dir, sub.student, sub.assignment)
    problem.parent.mkdir(parents=True, exist_ok=True)
    problem.write_text(sub.problem + "\n")


def graded_timestamp(course_dir: Path, sub: Submission):
    """When the submission already in the gradebook was handed in, or None."""
    from nbgrader.api import MissingEntry

    with _gradebook(course_dir) as gb:
        try:
            return gb.find_submission(sub.assignment, sub.student).timestamp
        except MissingEntry:
            return None


def grade(sub: Submission, course_dir: Path, limits: Limits = Limits()) -> Result:
    """Autogrades one submission and writes its feedback; never raises for a bad submission."""
    place(sub, course_dir)
    _problem_file(course_dir, sub.student, sub.assignment).unlink(missing_ok=True)
    if sub.problem is None:
        api = _api(course_dir, limits=limits)
        outcome = api.autograde(sub.assignment, sub.student, force=True, create=True)
        if not outcome.get("success"):
            lines = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
            sub.problem = f"Autograding failed: {lines[-1] if lines else 'no details'}"
        else:
            api.generate_feedback(sub.assignment, sub.student, force=True)
    if sub.problem is not None:
        _record_zero(course_dir, sub)
    return _read_result(course_dir, sub.student, sub.assignment)


def write_course_config(course_dir: Path) -> None:
    """An nbgrader_config.py in a grading folder outside the repository, so that plain
    nbgrader commands there (formgrader for the written answers) see the same course."""
    config = course_dir / "nbgrader_config.py"
    if course_dir != REPO_ROOT and not config.exists():
        config.write_text("# The nbgrader configuration of this grading folder: the course in "
                          f"{REPO_ROOT}.\nfrom autograder.course import configure\n\n"
                          f"configure(get_config(), course_dir={str(course_dir)!r})  # noqa: F821\n")


def _latest(subs: list[Submission]) -> list[Submission]:
    """One submission per (student, assignment): the one handed in last."""
    latest: dict[tuple[str, str], Submission] = {}
    for sub in subs:
        key = (sub.student, sub.assignment)
        if key not in latest or sub.timestamp > latest[key].timestamp:
            latest[key] = sub
    return list(latest.values())


def _worker_init(assignments: list[str]) -> None:
    """Quiet logs, and everything grading `assignments` loads once per process, loaded now.

    Workers start while the parent records the assignments in the gradebook,
    so these imports and references cost no time of their own.
    """
    logging.disable(logging.WARNING)
    from nbgrader.apps import NbGraderAPI  # noqa: F401
    from autograder.preprocessors.execute import font_cache_files
    from autograder.reference import load_reference
    from autograder.specs import load_spec

    font_cache_files()
    for assignment in assignments:
        try:
            load_reference(assignment)
            load_spec(assignment)
        except Exception:  # noqa: BLE001 - only a head start: grading reports the same error where it always did
            pass


def _start_workers(workers: int, assignments: list[str]) -> ProcessPoolExecutor:
    """A pool of `workers` processes, already starting (spawned: no state shared with the parent)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(assignments,))
    for _ in range(workers):  # the pool spawns a process per pending task
        pool.submit(int)
    return pool


def _newer_than_graded(subs: list[Submission], course_dir: Path) -> tuple[list[Submission], list[Submission]]:
    """(to grade, to keep): a submission older than the one in the gradebook is kept as graded."""
    todo, kept = [], []
    for sub in subs:
        graded = graded_timestamp(course_dir, sub)
        # nbgrader stores naive UTC timestamps
        if graded is not None and sub.timestamp.replace(tzinfo=None) < graded.replace(tzinfo=None):
            kept.append(sub)
        else:
            todo.append(sub)
    return todo, kept


def grade_all(subs: list[Submission], course_dir: Path, workers: int = 1,
              limits: Limits = Limits()) -> list[Result]:
    """Grades the newest submission of every student and assignment, in `workers` processes.

    A submission older than the one already in the gradebook is left alone, so
    a rerun on an old folder never undoes a resubmission. The results are the
    same whatever the number of workers.
    """
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    write_course_config(course_dir)
    subs = [s for s in _latest(subs) if s.assignment]
    assignments = sorted({s.assignment for s in subs})
    pool = _start_workers(workers, assignments) if workers > 1 and len(subs) > 1 else None
    try:
        if assignments:
            register(assignments, course_dir)
        todo, kept = _newer_than_graded(subs, course_dir)
        if pool is None or len(todo) <= 1:
            results = [grade(sub, course_dir, limits) for sub in todo]
        else:
            results = list(pool.map(grade, todo, [course_dir] * len(todo), [limits] * len(todo)))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    for sub in kept:
        result = _read_result(course_dir, sub.student, sub.assignment)
        result.notes.append("an older submission was not graded: the gradebook holds a newer one")
        results.append(result)
    return results


def reset_course(course_dir: Path) -> None:
    """Removes the grading state of `course_dir` (gradebook and nbgrader folders)."""
    for name in ("submitted", "autograded", "feedback", "summary"):
        shutil.rmtree(course_dir / name, ignore_errors=True)
    (course_dir / "gradebook.db").unlink(missing_ok=True)
