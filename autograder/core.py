"""The grading core: one submission in, everything the course keeps out.

`grade_submission(job)` autogrades one notebook with nbgrader (the course's
own `Autograde` and `GenerateFeedback` chains, `autograder.course.configure`)
in a private scratch course folder that holds its own gradebook with the
assignment recorded, and returns a picklable `Graded`: the autograded
notebook, the feedback HTML, the score of every grade cell, nbgrader's
comments and late penalties, and the grading notes or the one sentence that
says why the submission could not be graded. It reads nothing of the
instructor's course folder and writes nothing outside its scratch folder, so
it runs in any process of any machine where the course is installed: in the
grading command itself, in a local worker process, on a Dask worker, or in
Gradescope's `run_autograder`. Writing the result into a course (gradebook,
`autograded/`, `feedback/`) is the coordinator's job (`autograder.grading`).

This module also holds the nbgrader plumbing every grading step shares
(`nbgrader_api`, `release`, `register`).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from autograder.course import ASSIGNMENTS, Limits, nbgrader_config


class GradingError(Exception):
    """A step of the pipeline failed for a reason the instructor must fix."""


class WorkerError(GradingError):
    """This machine cannot grade at all (the course or a dependency is missing); one sentence."""


@dataclass(frozen=True)
class Job:
    """What grading one submission needs; picklable, so it can be sent to another machine.

    student, assignment: ids (`assignment` is a folder of the course's `solutions/`).
    notebook: the submitted notebook file's bytes (JSON, nbformat 4).
    timestamp: when it was handed in (timezone-aware, or naive UTC); nbgrader
        records it and computes late penalties from it.
    limits: the grading kernel's time and memory limits.
    hidden: more paths the kernel must not see besides the course's own
        (`autograder.course.protected_paths`): the coordinator's grading folder
        when the job runs on its machine.
    model_answers: the feedback shows the master's model answer beside each
        written answer (a self-learner grading their own notebook; never a class).
    """

    student: str
    assignment: str
    notebook: bytes
    timestamp: dt.datetime
    limits: Limits = Limits()
    hidden: tuple[str, ...] = ()
    model_answers: bool = False


@dataclass(frozen=True)
class CellGrade:
    """The autograder's verdict on one grade cell, as nbgrader's SaveAutoGrades recorded it."""

    notebook: str                 # notebook id, e.g. "losses"
    grade_id: str                 # the cell's nbgrader grade_id
    auto_score: float | None      # None: the cell is graded by hand (a written answer)
    max_score: float
    needs_manual_grade: bool


@dataclass(frozen=True)
class CellComment:
    """nbgrader's automatic comment on one answer cell ("No response." for an untouched one)."""

    notebook: str
    cell: str                     # the cell's grade_id
    auto_comment: str | None


@dataclass
class Graded:
    """Everything grading one submission produced; picklable.

    timestamp: the hand-in time as nbgrader stores it (naive UTC).
    grades, comments: one entry per graded cell / answer cell of the submitted notebooks.
    late_penalties: notebook id -> nbgrader's late-submission penalty (None: none).
    autograded, feedback: file name -> bytes of what nbgrader wrote into
        `autograded/<student>/<assignment>/` (the executed, scored notebook and
        timestamp.txt) and `feedback/<student>/<assignment>/` (the HTML and
        timestamp.txt). Files a kernel wrote next to the notebook are not kept.
    problem: the one sentence when the submission could not be graded (then
        grades, comments and files are empty and the course records a zero).
    notes: the limits the notebook hit, one sentence each (its "Grading notes").
    worker: "host:pid" of the process that graded it; seconds: how long it took there.
    """

    student: str
    assignment: str
    timestamp: dt.datetime | None = None
    grades: list[CellGrade] = field(default_factory=list)
    comments: list[CellComment] = field(default_factory=list)
    late_penalties: dict[str, float | None] = field(default_factory=dict)
    autograded: dict[str, bytes] = field(default_factory=dict)
    feedback: dict[str, bytes] = field(default_factory=dict)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    worker: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        """Autograded points (written answers count once graded by hand, in the gradebook)."""
        return sum(g.auto_score or 0.0 for g in self.grades)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.grades)


# --- nbgrader plumbing shared by every step -------------------------------------------------

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


def stamp_gradebooks_in_process() -> None:
    """New gradebooks get their schema revision from `_alembic_head`, not from a subprocess."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = _alembic_head


def nbgrader_api(course_dir: Path, release_dir: Path = ASSIGNMENTS, limits: Limits = Limits(),
                 hidden: tuple[str, ...] = (), model_answers: bool = False):
    """nbgrader's `NbGraderAPI` on the course configuration rooted at `course_dir`.

    hidden: paths the grading kernel must not see, besides the course's own.
    model_answers: the feedback shows model answers beside written answers.
    """
    from nbgrader.apps import NbGraderAPI
    from sqlalchemy.exc import SAWarning

    commands_on_path()
    stamp_gradebooks_in_process()
    # nbgrader's own gradebook code triggers these on every submission; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    config = nbgrader_config(course_dir, release_dir, limits, model_answers)
    if hidden:
        config.Execute.protected_paths = list(dict.fromkeys([*config.Execute.protected_paths, *hidden]))
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.ERROR)
    return api


def gradebook(course_dir: Path):
    """nbgrader's `Gradebook` of `course_dir` (use it as a context manager)."""
    from nbgrader.api import Gradebook

    stamp_gradebooks_in_process()
    config = nbgrader_config(course_dir)
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)


def _last_line(outcome: dict) -> str:
    lines = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
    return lines[-1] if lines else "no details"


def release(assignments: list[str], course_dir: Path, release_dir: Path = ASSIGNMENTS) -> None:
    """Generates the student version of each assignment into `release_dir`.

    This also records the assignment (its cells, points and checksums) in the
    course's gradebook, which autograding needs.
    """
    api = nbgrader_api(course_dir, release_dir)
    for assignment in assignments:
        outcome = api.generate_assignment(assignment, force=True, create=True)
        if not outcome.get("success"):
            raise GradingError(f"Releasing {assignment} failed: {_last_line(outcome)}")


def register(assignments: list[str], course_dir: Path) -> None:
    """Records the assignments in the gradebook of `course_dir` without touching assignments/."""
    with tempfile.TemporaryDirectory() as scratch:
        release(assignments, course_dir, Path(scratch))


# --- the grading core ------------------------------------------------------------------------

def scratch_root() -> Path:
    """The folder of every scratch course of this user on this machine.

    Grading kernels never see it (only their own submission's folder inside it
    is bound back), so no student reads another's notebook while both are graded.
    """
    root = Path(tempfile.gettempdir()) / f"optimlab-grading-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


_templates: dict[str, Path] = {}
_templates_lock = threading.Lock()


def _template(assignment: str) -> Path:
    """A gradebook with `assignment` recorded, built once per process and copied for every job."""
    with _templates_lock:
        if assignment not in _templates:
            folder = Path(tempfile.mkdtemp(prefix=f"template-{assignment}-", dir=scratch_root()))
            register([assignment], folder)
            _templates[assignment] = folder / "gradebook.db"
        return _templates[assignment]


def _where() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def prepare(assignment: str) -> None:
    """Loads what grading `assignment` needs, so the first job does not pay for it.

    Raises WorkerError with one sentence when this machine cannot grade it.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
        from nbgrader.apps import NbGraderAPI  # noqa: F401
        from autograder.course import master_notebook
        from autograder.preprocessors.execute import font_cache_files
        from autograder.reference import load_reference
        from autograder.specs import load_spec

        master_notebook(assignment)
        try:  # the grading kernel (the master notebooks' kernelspec) must start here too
            KernelSpecManager().get_kernel_spec("python3")
        except NoSuchKernel:
            raise ImportError("no python3 Jupyter kernel (ipykernel) is installed") from None
        font_cache_files()
        _template(assignment)
        load_reference(assignment)
        load_spec(assignment)
    except (ImportError, OSError, GradingError) as err:
        what = (f"{type(err).__name__}: {err}" if isinstance(err, ImportError) else str(err)).rstrip(".")
        raise WorkerError(f"The grading worker {_where()} cannot grade {assignment} ({what}); every worker "
                          "needs the course installed with its dependencies (pip install -e <course>).") from None


def _files(folder: Path, names: list[str]) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names if (folder / name).is_file()}


def _read_scratch(course: Path, graded: Graded) -> None:
    """Fills `graded` from the scratch course: its gradebook, autograded/ and feedback/ folders."""
    import nbformat
    from nbgrader import utils

    autograded = course / "autograded" / graded.student / graded.assignment
    feedback = course / "feedback" / graded.student / graded.assignment
    with gradebook(course) as gb:
        submission = gb.find_submission(graded.assignment, graded.student)
        graded.timestamp = submission.timestamp
        notebooks = [nb.name for nb in submission.notebooks]
        for notebook in submission.notebooks:
            path = autograded / f"{notebook.name}.ipynb"
            if not path.exists():
                continue
            nb = nbformat.read(path, as_version=4)
            cells = nb.cells
            # Exactly the cells nbgrader's SaveAutoGrades saw, so the course records what it recorded.
            grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in cells if utils.is_grade(c)}
            answer_ids = {c.metadata["nbgrader"]["grade_id"] for c in cells
                          if utils.is_solution(c) or utils.is_task(c)}
            graded.grades += [CellGrade(notebook.name, g.name, g.auto_score, g.max_score, g.needs_manual_grade)
                              for g in notebook.grades if g.name in grade_ids]
            graded.comments += [CellComment(notebook.name, c.name, c.auto_comment)
                                for c in notebook.comments if c.name in answer_ids]
            graded.late_penalties[notebook.name] = notebook.late_submission_penalty
            graded.notes += nb.metadata.get("optimlab", {}).get("limits", [])
    graded.autograded = _files(autograded, [f"{n}.ipynb" for n in notebooks] + ["timestamp.txt"])
    graded.feedback = _files(feedback, [f"{n}.html" for n in notebooks] + ["timestamp.txt"])


def grade_submission(job: Job) -> Graded:
    """Autogrades one submission and renders its feedback, in a private scratch course folder.

    Input: a `Job` (the notebook's bytes, its assignment, student, hand-in time
    and the kernel's limits). Output: a `Graded` with the autograded notebook,
    feedback HTML, per-cell grades and comments, late penalties, grading notes,
    or `problem` (one sentence) when the submission cannot be graded: it is not
    a notebook, or nbgrader failed on it. Nothing outside the scratch folder is
    written, and the scratch folder is removed.

    Raises WorkerError (one sentence) when this machine cannot grade at all: the
    course, its assignment or a dependency is missing here.
    """
    from autograder.collect import Submission, place

    started = time.perf_counter()
    prepare(job.assignment)
    graded = Graded(job.student, job.assignment, worker=_where())
    course = Path(tempfile.mkdtemp(prefix="job-", dir=scratch_root()))
    try:
        shutil.copy(_template(job.assignment), course / "gradebook.db")
        incoming = course / "incoming.ipynb"
        incoming.write_bytes(job.notebook)
        sub = Submission(job.student, job.assignment, incoming, job.timestamp)
        place(sub, course)
        if sub.problem is None:
            api = nbgrader_api(course, limits=job.limits, hidden=(str(scratch_root()), *job.hidden),
                               model_answers=job.model_answers)
            outcome = api.autograde(job.assignment, job.student, force=True, create=True)
            if outcome.get("success"):
                api.generate_feedback(job.assignment, job.student, force=True)
                _read_scratch(course, graded)
            else:
                sub.problem = f"Autograding failed: {_last_line(outcome)}"
        graded.problem = sub.problem
    finally:
        shutil.rmtree(course, ignore_errors=True)
    graded.seconds = time.perf_counter() - started
    return graded
