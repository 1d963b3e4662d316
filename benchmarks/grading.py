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
  other; it writes no feedback;
- ours on a Dask cluster: the same command with `--scheduler` pointing at a
  `distributed.LocalCluster` of 1 and 2 worker processes on this machine,
  started before the timed runs (a cluster's workers outlive a batch; the local
  pool starts its processes in every run).

Two more rows take the grader apart, in this process: the coordinator's
seconds per submission (placing it, the job's result pickled and unpickled as
a transfer does, recording it in the course, reading it back), against the
seconds of grading one notebook (`autograder.core.grade_submission`), whose
ratio is how many workers one coordinator keeps busy; and that grading against
executing the same notebook (the autograded one, outputs cleared) alone in
the same sandboxed kernel (`autograder.preprocessors.Execute`), whose ratio
is the grader's overhead.
"""
from __future__ import annotations

import datetime as dt
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import nbformat

from autograder.collect import Submission, place
from autograder.core import Graded, Job, grade_submission, prepare, register
from autograder.course import SAMPLES, SOLUTIONS, assignment_ids, nbgrader_config, notebook_name
from autograder.grading import commands_on_path, read_result, record
from autograder.preprocessors import Execute
from benchmarks.report import Row, speed_row
from benchmarks.timing import interleaved

PER_ASSIGNMENT = 6
GOAL_TWO_WORKERS, GOAL_ONE_WORKER = 1.8, 1.0
GOAL_WORKERS_FED = 10  # a coordinator should keep at least this many workers busy

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
    """`optimlab-grade grade` on the class folder, into a fresh course folder each run,
    with `workers` local processes or on the Dask cluster at `scheduler`."""

    def __init__(self, submissions: Path, scratch: Path, workers: int, threads: int, scheduler: str | None = None):
        self.submissions, self.scratch, self.workers, self.threads = submissions, scratch, workers, threads
        self.scheduler = scheduler

    def run(self) -> None:
        name = f"{'dask' if self.scheduler else 'ours'}{self.workers}"
        course = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.scratch))
        where = ["--scheduler", self.scheduler] if self.scheduler else ["--workers", str(self.workers)]
        _run([sys.executable, "-m", "autograder", "grade", str(self.submissions), "--course-dir", str(course),
              *where], course, _env(self.threads), self.scratch / f"{name}.log")


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


@contextmanager
def dask_clusters(sizes: tuple[int, ...]):
    """{workers: scheduler address} of a `distributed.LocalCluster` per size, on 127.0.0.1, one thread a worker."""
    from distributed import LocalCluster

    with ExitStack() as stack:
        # Its workers get the environment of this process: fast mode, one BLAS thread.
        os.environ.update(_env(1))
        yield {n: stack.enter_context(LocalCluster(n_workers=n, processes=True, threads_per_worker=1,
                                                   host="127.0.0.1", dashboard_address=None)).scheduler_address
               for n in sizes}


def _job(assignment: str, student: str, path: Path) -> Job:
    return Job(student, assignment, path.read_bytes(), dt.datetime.now(dt.timezone.utc))


def coordinator_seconds(chosen, scratch: Path, reps: int) -> tuple[list[float], list[float], Graded]:
    """(coordinator seconds per submission, grading seconds per notebook, one result) in this process.

    The coordinator's share of a submission: `place` it in submitted/, read its
    bytes for the job, take the job's result through pickle (what a transfer
    costs beyond the network), record it (folders swapped in, one gradebook
    transaction) and read it back for the grade table.
    """
    assignment, student, path = chosen[0]
    prepare(assignment)
    grading_seconds, coordinator = [], []
    graded = None
    for rep in range(reps):
        start = time.perf_counter()
        graded = grade_submission(_job(assignment, student, path))
        grading_seconds.append(time.perf_counter() - start)
        course = Path(tempfile.mkdtemp(prefix="coordinator-", dir=scratch))
        register([assignment], course)
        copies = 20
        start = time.perf_counter()
        for i in range(copies):
            sub = Submission(f"{student}{i}", assignment, path, dt.datetime.now(dt.timezone.utc))
            (place(sub, course) / notebook_name(assignment)).read_bytes()  # the job's bytes
            received = pickle.loads(pickle.dumps(replace(graded, student=sub.student)))
            record(course, received)
            read_result(course, sub.student, assignment)
        coordinator.append((time.perf_counter() - start) / copies)
    return coordinator, grading_seconds, graded


def execution_alone_seconds(graded: Graded, scratch: Path, reps: int) -> list[float]:
    """Seconds to execute the autograded notebook (outputs cleared) alone in the grader's sandboxed kernel."""
    name = next(n for n in graded.autograded if n.endswith(".ipynb"))
    seconds = []
    for _ in range(reps):
        course = Path(tempfile.mkdtemp(prefix="alone-", dir=scratch))
        folder = course / "autograded" / graded.student / graded.assignment
        folder.mkdir(parents=True)
        nb = nbformat.reads(graded.autograded[name].decode(), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        execute = Execute(config=nbgrader_config(course))
        start = time.perf_counter()
        execute.preprocess(nb, {"metadata": {"path": str(folder)}})
        seconds.append(time.perf_counter() - start)
    return seconds


def _per_minute(seconds_per_notebook: list[float]) -> str:
    return f"{60 / statistics.median(seconds_per_notebook):.1f} notebooks per minute"


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
        with dask_clusters((1, 2)) as schedulers:
            contenders = {"ours, 1 worker": Ours(submissions, scratch, 1, threads).run,
                          "ours, 2 workers": Ours(submissions, scratch, 2, threads).run,
                          "Dask, 1 worker": Ours(submissions, scratch, 1, threads, schedulers[1]).run,
                          "Dask, 2 workers": Ours(submissions, scratch, 2, threads, schedulers[2]).run,
                          "plain": plain.run}
            times = interleaved(contenders, reps, setups={"plain": plain.setup}, warmup=False)
        coordinator, grading_one, graded = coordinator_seconds(chosen, scratch, reps)
        alone = execution_alone_seconds(graded, scratch, reps)
    per_notebook = {name: [s / count for s in seconds] for name, seconds in times.items()}
    label = f"{count} samples of {len(assignments)} assignment{'s' if len(assignments) > 1 else ''}"
    rows = [speed_row("grading", f"seconds per notebook, {label}, {who}",
                      per_notebook[who], "plain nbgrader autograde (sequential)",
                      per_notebook["plain"], goal, text, judged=not quick and goal is not None,
                      note=f"{_per_minute(per_notebook[who])}; kernel BLAS threads: ours 1, plain {threads}")
            for who, goal, text in (("ours, 1 worker", GOAL_ONE_WORKER, "> 1x"),
                                    ("ours, 2 workers", GOAL_TWO_WORKERS, ">= 1.8x"),
                                    ("Dask, 1 worker", None, "-"), ("Dask, 2 workers", None, "-"))]
    one = f"{chosen[0][0]}/{chosen[0][2].stem}"
    rows.append(speed_row("grading", f"coordinator seconds per submission ({one}: place, receive, record, "
                          "read back)", coordinator, "grading it (1 worker)", grading_one, GOAL_WORKERS_FED,
                          f">= {GOAL_WORKERS_FED:g}x (workers one coordinator feeds)", judged=not quick))
    rows.append(speed_row("grading", f"grader seconds per notebook ({one}, in process)", grading_one,
                          "executing it alone in the same sandbox", alone, None, "-",
                          note=f"grader overhead {statistics.median(grading_one) / statistics.median(alone):.2f}x"))
    details = {"submissions": [f"{a}/{s}" for a, s, _ in chosen], "seconds_total": times,
               "plain_kernel_threads": threads, "notebooks_per_minute":
               {name: 60 / statistics.median(s) for name, s in per_notebook.items()},
               "coordinator_seconds_per_submission": coordinator, "grading_seconds_one_notebook": grading_one,
               "execution_alone_seconds": alone,
               "grader_overhead_ratio": statistics.median(grading_one) / statistics.median(alone)}
    return rows, details
