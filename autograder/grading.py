"""The instructor pipeline: release, autograde, feedback, for a whole folder of submissions.

Each step is nbgrader's own (`NbGraderAPI`) run with the course configuration
of `autograder.course`, so plain `nbgrader` commands and `optimlab-grade` do
exactly the same thing. Grading one submission is `autograder.core.grade_submission`,
a job that runs in a private scratch course anywhere; this module is the
coordinator: it finds the submissions, sends the jobs to an executor (this
process, a local process pool, or a Dask cluster: `executors`), and records each
result in the course folder as it comes back.

Why the gradebook survives anything: only the coordinator opens the course's
gradebook (the jobs have their own, in their scratch folders), so no SQLite file
is ever written by two processes. A result is recorded in a fixed order: its
files first, each folder swapped in whole (`autograded/`, `feedback/`), then the
gradebook in one transaction through nbgrader's own API, under the submission's
(student, assignment) key, replaced and never added twice. A coordinator killed
at any point leaves whole grades behind (at worst new files beside the previous
grade), and rerunning the batch grades everything not older than the gradebook's
submission again, to the same result. A job lost with a worker (a killed process,
a lost machine) is run again elsewhere by the executor.
"""
from __future__ import annotations

import shutil
import uuid
from concurrent.futures import Executor, Future, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.collect import SUBMISSION_SECRET, Submission, place
# commands_on_path and release are part of this module's interface (the command line, benchmarks, tests).
from autograder.core import (GradingError, Graded, Job, commands_on_path, gradebook, grade_submission,  # noqa: F401
                             register, release)
from autograder.course import REPO_ROOT, Limits, nbgrader_config, notebook_name, protected_paths
from autograder.executors import InProcess, executor


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


def _problem_file(course_dir: Path, student: str, assignment: str) -> Path:
    """Where the sentence of a submission that could not be graded is kept, beside its zero."""
    return course_dir / "autograded" / student / assignment / "problem.txt"


def read_result(course_dir: Path, student: str, assignment: str) -> Result:
    """Scores from the gradebook (manual grades included) and the rest from the autograded files."""
    from nbgrader.api import MissingEntry

    problem = _problem_file(course_dir, student, assignment)
    result = Result(student, assignment, problem=problem.read_text().strip() if problem.exists() else None)
    with gradebook(course_dir) as gb:
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
    with gradebook(course_dir) as gb:
        keys = [(s.student.id, a.name) for a in gb.assignments for s in a.submissions]
    return [read_result(course_dir, student, assignment) for student, assignment in keys]


@contextmanager
def _one_transaction(gb):
    """The block's gradebook changes are committed together at its end, or not at all.

    nbgrader's `Gradebook` methods commit after every call; inside the block
    those commits only flush, so a coordinator killed halfway through recording
    a submission leaves the gradebook as it was before.
    """
    commit = gb.db.commit
    gb.db.commit = gb.db.flush
    try:
        yield gb
    except BaseException:
        gb.db.rollback()
        raise
    finally:
        del gb.db.commit
    commit()


def _swap_in(folder: Path, files: dict[str, bytes]) -> None:
    """Replaces `folder` by one holding exactly `files` (name -> bytes), never a half-written one.

    The new folder is written beside it and renamed into place; an interrupted
    swap leaves the old folder, or none, plus a hidden leftover.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    new, old = folder.with_name(f".{folder.name}.new-{tag}"), folder.with_name(f".{folder.name}.old-{tag}")
    new.mkdir()
    for name, data in files.items():
        (new / name).write_bytes(data)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _record_late_penalties(gb, submission, course_dir: Path) -> None:
    """Sets each notebook's late penalty as nbgrader's AssignLatePenalties does, against the due
    date and extension in this gradebook (a job's scratch gradebook knows neither)."""
    from nbgrader.preprocessors import AssignLatePenalties

    late = AssignLatePenalties(config=nbgrader_config(course_dir))
    late.init_plugin()
    gb.db.flush()
    gb.db.refresh(submission)  # its lateness and scores are SQL expressions of what was just written
    for notebook in submission.notebooks:
        gb.db.refresh(notebook)
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = late.plugin_inst.late_submission_penalty(submission.student.id, notebook.score,
                                                               submission.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = late._check_late_penalty(notebook, penalty)


def _exchange_secret(course_dir: Path, student: str, assignment: str) -> dict[str, bytes]:
    """The secret of a submission that came through nbgrader's exchange, carried into autograded/
    and feedback/ as nbgrader's autograde carries it: `nbgrader release_feedback` names the
    feedback after it, so that only the student who submitted can fetch it."""
    secret = course_dir / "submitted" / student / assignment / SUBMISSION_SECRET
    return {SUBMISSION_SECRET: secret.read_bytes()} if secret.is_file() else {}


def record(course_dir: Path, graded: Graded) -> None:
    """Writes a graded submission into the course: its files, then its gradebook entry.

    The gradebook ends exactly as nbgrader's `autograde` leaves it: the student
    and the submission (with its timestamp) created or updated, every grade
    cell's auto score, comment and late penalty set as SaveAutoGrades and
    AssignLatePenalties set them, and grades given by hand kept (and marked for
    review, as nbgrader marks them).
    """
    student, assignment = graded.student, graded.assignment
    exchange = _exchange_secret(course_dir, student, assignment)
    _swap_in(course_dir / "autograded" / student / assignment, graded.autograded | exchange)
    _swap_in(course_dir / "feedback" / student / assignment, graded.feedback | exchange)
    with gradebook(course_dir) as gb, _one_transaction(gb):
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student, timestamp=graded.timestamp)
        for cell in graded.grades:
            grade = gb.find_grade(cell.grade_id, cell.notebook, assignment, student)
            grade.auto_score = cell.auto_score
            # SaveAutoGrades' rule: a grade given by hand, or a cell the autograder cannot score, needs a grader.
            grade.needs_manual_grade = grade.manual_score is not None or cell.auto_score is None
        for cell in graded.comments:
            gb.find_comment(cell.cell, cell.notebook, assignment, student).auto_comment = cell.auto_comment
        _record_late_penalties(gb, submission, course_dir)


def _record_zero(course_dir: Path, sub: Submission, problem: str) -> None:
    """Records a submission that could not be graded with zero points and its sentence,
    replacing any earlier grade and its files."""
    _swap_in(course_dir / "autograded" / sub.student / sub.assignment, {"problem.txt": f"{problem}\n".encode()})
    shutil.rmtree(course_dir / "feedback" / sub.student / sub.assignment, ignore_errors=True)
    with gradebook(course_dir) as gb, _one_transaction(gb):
        gb.update_or_create_student(sub.student)
        submission = gb.update_or_create_submission(sub.assignment, sub.student, timestamp=sub.timestamp)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False


def graded_timestamp(course_dir: Path, sub: Submission):
    """When the submission already in the gradebook was handed in, or None."""
    from nbgrader.api import MissingEntry

    with gradebook(course_dir) as gb:
        try:
            return gb.find_submission(sub.assignment, sub.student).timestamp
        except MissingEntry:
            return None


def _job(sub: Submission, course_dir: Path, limits: Limits, model_answers: bool = False) -> Job | None:
    """Puts the submission into the course's submitted/ folder and returns its grading job,
    or None when it cannot be read (`sub.problem` then says why)."""
    folder = place(sub, course_dir)
    if sub.problem is not None:
        return None
    notebook = (folder / notebook_name(sub.assignment)).read_bytes()
    # On this machine the kernel must not see the course's grading state either.
    hidden = tuple(str(p) for p in protected_paths(course_dir))
    return Job(sub.student, sub.assignment, notebook, sub.timestamp, limits, hidden, model_answers)


def _received(future: Future, sub: Submission) -> Graded:
    """The job's result; a worker that could not run it ends the batch with one sentence."""
    try:
        return future.result()
    except GradingError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever a remote worker raised, said in one sentence
        raise GradingError(
            f"A grading worker failed on the submission of {sub.student} for {sub.assignment} "
            f"({type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else 'no details'}); "
            "every worker needs the course installed with its dependencies (pip install -e <course>).") from err


def grade_batch(todo: list[Submission], course_dir: Path, limits: Limits, pool: Executor,
                model_answers: bool = False) -> list[Result]:
    """Grades `todo` with the executor `pool`, recording each result as soon as it comes back."""
    pending: dict[Future, Submission] = {}
    for sub in todo:
        job = _job(sub, course_dir, limits, model_answers)
        if job is None:
            _record_zero(course_dir, sub, sub.problem)
        else:
            pending[pool.submit(grade_submission, job)] = sub
    try:
        for future in as_completed(pending):
            sub = pending[future]
            graded = _received(future, sub)
            if graded.problem is None:
                record(course_dir, graded)
            else:
                _record_zero(course_dir, sub, graded.problem)
    finally:
        for future in pending:
            future.cancel()
    return [read_result(course_dir, sub.student, sub.assignment) for sub in todo]


def grade(sub: Submission, course_dir: Path, limits: Limits = Limits()) -> Result:
    """Autogrades one submission in this process and records it; never raises for a bad submission."""
    [result] = grade_batch([sub], Path(course_dir).resolve(), limits, InProcess())
    return result


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
              limits: Limits = Limits(), scheduler: str | None = None,
              model_answers: bool = False) -> list[Result]:
    """Grades the newest submission of every student and assignment.

    The jobs run in `workers` local processes, or, with `scheduler` (a Dask
    scheduler's address, e.g. "tcp://10.0.0.5:8786"), on that Dask cluster's
    workers; this process records every result. A submission older than the one
    already in the gradebook is left alone, so a rerun on an old folder never
    undoes a resubmission. The results are the same wherever the jobs ran.
    With `model_answers` the feedback shows the model answers (self-learners only).
    """
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    write_course_config(course_dir)
    subs = [s for s in _latest(subs) if s.assignment]
    assignments = sorted({s.assignment for s in subs})
    with executor(workers if len(subs) > 1 else 1, scheduler, assignments) as pool:
        if assignments:  # while the workers start
            register(assignments, course_dir)
        todo, kept = _newer_than_graded(subs, course_dir)
        results = grade_batch(todo, course_dir, limits, pool, model_answers)
    for sub in kept:
        result = read_result(course_dir, sub.student, sub.assignment)
        result.notes.append("an older submission was not graded: the gradebook holds a newer one")
        results.append(result)
    return results


def reset_course(course_dir: Path) -> None:
    """Removes the grading state of `course_dir` (gradebook and nbgrader folders)."""
    for name in ("submitted", "autograded", "feedback", "summary"):
        shutil.rmtree(course_dir / name, ignore_errors=True)
    (course_dir / "gradebook.db").unlink(missing_ok=True)
