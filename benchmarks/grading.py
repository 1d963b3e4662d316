"""Item 3: seconds per notebook of our grader against plain, sequential `nbgrader autograde`.

The class: the first sample submissions (by name) of every assignment in
`autograder/samples/<assignment>/`, 6 each, 30 in all. Each contender starts
from an empty course folder in every repetition and runs as an instructor
would run it, as a command:

- ours: `optimlab-grade grade CLASS --course-dir DIR --workers N` (sandboxed
  kernels in fast mode, scores, feedback HTML, grades CSV and class summary;
  it also records the assignments in the gradebook first), N = 1 and 2;
- plain: `nbgrader generate_assignment <assignment>` (which records the
  assignment in the gradebook, as ours does first) then `nbgrader autograde
  <assignment>` for each assignment in turn, in a course folder whose
  `nbgrader_config.py` names only the source folder and the solution stubs,
  with the submissions in `submitted/<student>/<assignment>/` and
  `OPTIMLAB_FAST=1` as ours has it. nbgrader grades one notebook after the
  other; it writes no feedback.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.course import SAMPLES, SOLUTIONS, assignment_ids, notebook_name
from autograder.grading import commands_on_path
from benchmarks.report import Row, speed_row
from benchmarks.timing import interleaved

PER_ASSIGNMENT = 6
GOAL_TWO_WORKERS, GOAL_ONE_WORKER = 1.8, 1.0

PLAIN_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "optimlab"
c.CourseDirectory.source_directory = {source!r}
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
"""


def sample_class(per_assignment: int, assignments: list[str]) -> list[tuple[str, str, Path]]:
    """(assignment, student, path) of the first `per_assignment` samples of each assignment."""
    chosen = []
    for assignment in assignments:
        for path in sorted((SAMPLES / assignment).glob("*.ipynb"))[:per_assignment]:
            chosen.append((assignment, path.stem, path))
    return chosen


def folder_of_submissions(chosen, folder: Path) -> Path:
    """`folder/<assignment>/<student>.ipynb`, a layout `optimlab-grade grade` reads."""
    for assignment, student, path in chosen:
        (folder / assignment).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / assignment / f"{student}.ipynb")
    return folder


def _run(command: list[str], cwd: Path, env: dict, log: Path) -> None:
    """Runs a command; its output goes to `log`, a failure raises with the log's last lines."""
    with log.open("a") as out:
        done = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command)} failed with status {done.returncode}:\n{tail}")


def _env(threads: int) -> dict:
    """Fast mode, and `threads` BLAS threads for kernels that do not set their own (plain nbgrader's)."""
    commands_on_path()  # nbgrader runs `alembic` by name
    return {**os.environ, "OPTIMLAB_FAST": "1", "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}


class Ours:
    """`optimlab-grade grade` on the class folder, into a fresh course folder each run."""

    def __init__(self, submissions: Path, scratch: Path, workers: int, threads: int):
        self.submissions, self.scratch, self.workers, self.threads = submissions, scratch, workers, threads

    def run(self) -> None:
        course = Path(tempfile.mkdtemp(prefix=f"ours{self.workers}-", dir=self.scratch))
        _run([sys.executable, "-m", "autograder", "grade", str(self.submissions), "--course-dir", str(course),
              "--workers", str(self.workers)], course, _env(self.threads), self.scratch / f"ours{self.workers}.log")


class PlainNbgrader:
    """Sequential `nbgrader autograde`, one command per assignment, in a fresh course folder each run."""

    def __init__(self, chosen, scratch: Path, threads: int):
        self.chosen, self.scratch, self.threads = chosen, scratch, threads
        self.assignments = sorted({a for a, _, _ in chosen})
        self.template = self._course_template()

    def _nbgrader(self, *args: str, cwd: Path) -> None:
        nbgrader = str(Path(sys.executable).parent / "nbgrader")
        _run([nbgrader, *args], cwd, _env(self.threads), self.scratch / "plain.log")

    def _course_template(self) -> Path:
        """A course folder with its configuration and the submissions in place."""
        course = self.scratch / "plain-template"
        course.mkdir()
        (course / "nbgrader_config.py").write_text(PLAIN_CONFIG.format(source=str(SOLUTIONS)))
        for assignment, student, path in self.chosen:
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / notebook_name(assignment))
        return course

    def setup(self) -> None:
        """A copy of the template to grade in (untimed)."""
        self.course = Path(tempfile.mkdtemp(prefix="plain-", dir=self.scratch)) / "course"
        shutil.copytree(self.template, self.course)

    def run(self) -> None:
        for assignment in self.assignments:
            self._nbgrader("generate_assignment", assignment, "--force", cwd=self.course)
            self._nbgrader("autograde", assignment, cwd=self.course)


def run(quick: bool, reps: int | None, threads: int) -> tuple[list[Row], dict]:
    """Rows: seconds per notebook with 1 and 2 workers against plain nbgrader's (its kernels with `threads`)."""
    reps = reps or (1 if quick else 3)
    assignments = ["01_losses"] if quick else assignment_ids()
    chosen = sample_class(2 if quick else PER_ASSIGNMENT, assignments)
    count = len(chosen)
    with tempfile.TemporaryDirectory(prefix="optimlab-bench-grading-") as tmp:
        scratch = Path(tmp)
        submissions = folder_of_submissions(chosen, scratch / "class")
        plain = PlainNbgrader(chosen, scratch, threads)
        contenders = {"ours, 1 worker": Ours(submissions, scratch, 1, threads).run,
                      "ours, 2 workers": Ours(submissions, scratch, 2, threads).run,
                      "plain": plain.run}
        times = interleaved(contenders, reps, setups={"plain": plain.setup}, warmup=False)
    per_notebook = {name: [s / count for s in seconds] for name, seconds in times.items()}
    label = f"{count} samples of {len(assignments)} assignment{'s' if len(assignments) > 1 else ''}"
    rows = [speed_row("grading", f"seconds per notebook, {label}, {w}",
                      per_notebook[f"ours, {w}"], "plain nbgrader autograde (sequential)",
                      per_notebook["plain"], goal, text, judged=not quick,
                      note=f"kernel BLAS threads: ours 1, plain {threads}")
            for w, goal, text in (("1 worker", GOAL_ONE_WORKER, "> 1x"),
                                  ("2 workers", GOAL_TWO_WORKERS, ">= 1.8x"))]
    details = {"submissions": [f"{a}/{s}" for a, s, _ in chosen], "seconds_total": times,
               "plain_kernel_threads": threads}
    return rows, details
