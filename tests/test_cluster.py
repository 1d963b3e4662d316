"""Grading on a real Dask cluster on 127.0.0.1 (tests/conftest.py's `dask_cluster`: 2 worker processes).

The cluster grades a class to the same grades, CSV, gradebook and feedback as the
local pool; the gradebook the coordinator records is exactly what nbgrader's own
`autograde` writes; a worker killed mid-batch has its job run elsewhere and every
submission is recorded once; a worker that cannot grade costs one sentence.
(The adversarial corpus is graded on the cluster by tests/test_adversarial.py.)
"""
import contextlib
import datetime as dt
import io
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from distributed import Client

from autograder import grading
from autograder.cli import main
from autograder.collect import Submission, find_submissions, place
from autograder.core import Job, WorkerError, grade_submission, gradebook, nbgrader_api, register
from autograder.course import SAMPLES, assignment_ids
from autograder.executors import dask_executor
from autograder.grading import grade_all
from autograder.report import write_csv
from sample_grading import autograded_total, grade_sample

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_losses"
# The class: three samples of 01 (full marks, a known mistake, nothing done), one sample with a
# known mistake of every other assignment, and a file that is not a notebook.
CLASS = [(ASSIGNMENT, "reference"), (ASSIGNMENT, "softmax_sums"), (ASSIGNMENT, "untouched")]


def _class_folder(folder: Path) -> Path:
    """`folder/<assignment>/<student>.ipynb` for the class above."""
    chosen = list(CLASS)
    for assignment in assignment_ids()[1:]:
        # (cs231n_habits prints its gradient check at random coordinates, different in every run)
        buggy = [p.stem for p in sorted((SAMPLES / assignment).glob("*.ipynb"))
                 if p.stem not in ("reference", "untouched", "cs231n_habits")]
        chosen.append((assignment, buggy[0]))
    for assignment, student in chosen:
        (folder / assignment).mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / assignment / f"{student}.ipynb", folder / assignment / f"{student}.ipynb")
    (folder / ASSIGNMENT / "broken.ipynb").write_text('{"cells": [')
    return folder


def gradebook_rows(course: Path) -> list[tuple]:
    """Everything the gradebook holds about submissions, without its generated ids."""
    rows = []
    with gradebook(course) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                key = (assignment.name, sub.student.id)
                rows.append((*key, "submission", str(sub.timestamp), str(sub.extension)))
                for nb in sub.notebooks:
                    rows.append((*key, nb.name, "notebook", nb.flagged, nb.late_submission_penalty))
                    rows += [(*key, nb.name, "grade", g.name, g.auto_score, g.manual_score, g.extra_credit,
                              g.needs_manual_grade) for g in nb.grades]
                    rows += [(*key, nb.name, "comment", c.name, c.auto_comment, c.manual_comment)
                             for c in nb.comments]
    return sorted(rows, key=repr)


class _Text(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.parts = []
        self.feed(html)

    def handle_data(self, data):
        self.parts.append(data)


def _feedback(course: Path) -> dict[str, str]:
    """What every feedback file says: its text, with the run times the notebooks print masked.

    (How a kernel's printed lines are split into output blocks, and how long they took,
    depends on the machine's load, not on the grader.)
    """
    def said(html: str) -> str:
        text = " ".join("".join(_Text(html).parts).split())
        text = re.sub(r"\d+(\.\d+)? (ms|s)\b", "_", text)
        return re.sub(r"\b\d+(\.\d+)? times (faster|slower)\b", "_ times", text)   # ratios of run times

    return {str(p.relative_to(course)): said(p.read_text())
            for p in sorted((course / "feedback").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory, dask_cluster):
    """The class graded by the local pool (2 processes) and by the cluster (2 workers)."""
    folder = _class_folder(tmp_path_factory.mktemp("class"))
    local, cluster = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("cluster")
    by_pool = grade_all(find_submissions(folder), local, workers=2)
    by_cluster = grade_all(find_submissions(folder), cluster, scheduler=dask_cluster.scheduler_address)
    return (local, by_pool), (cluster, by_cluster)


def test_the_cluster_grades_the_class_as_the_local_pool(two_ways):
    (local, by_pool), (cluster, by_cluster) = two_ways
    assert len(by_cluster) == len(by_pool) == len(CLASS) + len(assignment_ids()) - 1 + 1
    for r in by_cluster:
        if r.student == "broken":
            assert r.score == 0 and "is not a notebook" in r.problem
        else:  # the kernel-free oracle of every sample
            assert r.problem is None and r.feedback.exists()
            assert r.score == pytest.approx(autograded_total(grade_sample(r.assignment, r.student)), abs=1e-9)
    assert write_csv(by_cluster, cluster / "a.csv").read_text() == write_csv(by_pool, local / "a.csv").read_text()
    assert gradebook_rows(cluster) == gradebook_rows(local)
    assert _feedback(cluster) == _feedback(local)
    assert [(r.checks, r.notes) for r in by_cluster] == [(r.checks, r.notes) for r in by_pool]


def _autograde_with_nbgrader(course: Path, student: str, sample: str, when: dt.datetime) -> None:
    """What grading was before the grading core: nbgrader's autograde and feedback on the course itself."""
    place(Submission(student, ASSIGNMENT, SAMPLES / ASSIGNMENT / f"{sample}.ipynb", when), course)
    api = nbgrader_api(course)
    assert api.autograde(ASSIGNMENT, student, force=True, create=True)["success"]
    assert api.generate_feedback(ASSIGNMENT, student, force=True)["success"]


def _give_manual_grade(course: Path, student: str) -> None:
    """A grader scores a written answer and overrides an autograded cell, as in the formgrader."""
    with gradebook(course) as gb:
        for name, score in (("answer_compare", 1.5), ("test_svm_loss", 2.0)):
            grade = gb.find_grade(name, "losses", ASSIGNMENT, student)
            grade.manual_score, grade.needs_manual_grade = score, False
        gb.find_comment("answer_compare", "losses", ASSIGNMENT, student).manual_comment = "see the lecture"
        gb.db.commit()


def test_the_gradebook_is_exactly_what_nbgrader_autograde_writes(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    handed_in = {"ann": ("reference", dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)),
                 "ben": ("softmax_sums", dt.datetime(2026, 11, 21, 23, 59, 59, 123456, tzinfo=dt.timezone.utc))}
    old.mkdir()
    register([ASSIGNMENT], old)
    for student, (sample, when) in handed_in.items():
        _autograde_with_nbgrader(old, student, sample, when)
    subs = [Submission(student, ASSIGNMENT, SAMPLES / ASSIGNMENT / f"{sample}.ipynb", when)
            for student, (sample, when) in handed_in.items()]
    grade_all(subs, new)
    assert gradebook_rows(new) == gradebook_rows(old)
    assert len(gradebook_rows(new)) > 20

    # Regrading after a grader's work keeps it and flags it for review, as nbgrader does.
    for course in (old, new):
        _give_manual_grade(course, "ann")
    _autograde_with_nbgrader(old, "ann", "reference", handed_in["ann"][1])
    grade_all(subs[:1], new)
    assert gradebook_rows(new) == gradebook_rows(old)
    flagged = [row for row in gradebook_rows(new) if row[1] == "ann" and row[3] == "grade" and row[-1]]
    assert {row[4] for row in flagged} == {"answer_unique", "answer_compare", "answer_regularizers", "test_svm_loss"}


def test_a_worker_killed_mid_batch_has_its_job_run_elsewhere(tmp_path, dask_cluster, monkeypatch):
    folder = tmp_path / "class"
    students = [p.stem for p in sorted((SAMPLES / ASSIGNMENT).glob("*.ipynb"))][:6]
    (folder / ASSIGNMENT).mkdir(parents=True)
    for student in students:
        shutil.copy(SAMPLES / ASSIGNMENT / f"{student}.ipynb", folder / ASSIGNMENT)
    course = tmp_path / "course"
    recorded, record = [], grading.record

    def spy(course_dir, graded):  # which process graded what, and when it was recorded
        recorded.append((graded.student, graded.worker, time.monotonic()))
        record(course_dir, graded)

    monkeypatch.setattr(grading, "record", spy)

    outcome = {}
    batch = threading.Thread(target=lambda: outcome.update(results=grade_all(
        find_submissions(folder), course, scheduler=dask_cluster.scheduler_address)))
    with Client(dask_cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
        batch.start()
        busy, deadline = [], time.monotonic() + 300
        while not busy and time.monotonic() < deadline:  # a worker in the middle of a job
            time.sleep(1)
            busy = [w for w, keys in client.processing().items() if keys and w in pids]
        assert busy, "no job ever ran"
        time.sleep(1.5)
        killed_at = time.monotonic()
        os.kill(pids[busy[0]], signal.SIGKILL)
        batch.join(600)
    assert not batch.is_alive()

    results = {r.student: r for r in outcome["results"]}
    assert set(results) == set(students)
    for student in students:
        expected = autograded_total(grade_sample(ASSIGNMENT, student))
        assert results[student].score == pytest.approx(expected, abs=1e-9)
    assert sorted(s for s, _, _ in recorded) == sorted(students)     # each recorded once
    killed = f":{pids[busy[0]]}"
    assert not [s for s, worker, at in recorded if worker.endswith(killed) and at > killed_at]
    with gradebook(course) as gb:
        assert sorted(s.student.id for s in gb.assignment_submissions(ASSIGNMENT)) == sorted(students)
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_worker_without_the_course_is_one_sentence(tmp_path, capsys):
    """A worker whose `import autograder` fails (a dependency missing there) stops the batch with
    one sentence, and nothing recorded before is lost."""
    from distributed import LocalCluster

    shadow = tmp_path / "shadow" / "autograder"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named nbgrader')\n")
    folder = tmp_path / "class"
    (folder / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(SAMPLES / ASSIGNMENT / "reference.ipynb", folder / ASSIGNMENT / "ann.ipynb")
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(shadow.parent)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with Client(cluster.scheduler_address) as client:
                client.wait_for_workers(1, timeout=120)
            status = main(["grade", str(folder), "--course-dir", str(tmp_path / "course"),
                           "--scheduler", cluster.scheduler_address])
        finally:
            worker.kill()
            worker.wait()
    err = capsys.readouterr().err.strip()
    assert status == 1
    assert err.startswith("optimlab-grade: A grading worker failed on the submission of ann for 01_losses "
                          "(ImportError: No module named nbgrader); every worker needs the course installed")
    assert "\n" not in err and "Traceback" not in err
    assert (tmp_path / "course" / "submitted" / "ann" / ASSIGNMENT / "losses.ipynb").exists()


def test_a_job_for_an_assignment_the_worker_lacks_is_one_sentence(dask_cluster):
    job = Job("ann", "99_missing", b"{}", dt.datetime.now(dt.timezone.utc))
    with dask_executor(dask_cluster.scheduler_address) as pool:
        future = pool.submit(grade_submission, job)
        with pytest.raises(WorkerError) as err:
            future.result(timeout=120)
    sentence = str(err.value)
    assert re.fullmatch(r"The grading worker \S+:\d+ cannot grade 99_missing \(There is no assignment "
                        r"'99_missing' with one master notebook in solutions/ \(known: [^)]*\)\); every worker "
                        r"needs the course installed with its dependencies \(pip install -e <course>\)\.", sentence)


def test_an_unreachable_scheduler_is_one_sentence(tmp_path, capsys, monkeypatch):
    from autograder import executors

    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 2)
    shutil.copy(SAMPLES / ASSIGNMENT / "reference.ipynb", tmp_path / "ann.ipynb")
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(["grade", str(tmp_path / "ann.ipynb"), "--course-dir", str(tmp_path / "course"),
                       "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip()
    assert status == 1 and "\n" not in err
    assert err.startswith("optimlab-grade: Could not reach the Dask scheduler at tcp://127.0.0.1:9 (")
    assert err.endswith("check the address and that the scheduler is running.")
