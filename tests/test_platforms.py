"""Grading on systems without Linux's protections, simulated on Linux (#17).

Each simulated system runs `optimlab-grade` in subprocesses whose Python really
lacks what that system lacks (tests/platforms/sitecustomize.py: no `unshare`
or `mount` in the C library, macOS's refused address-space limit; on Windows
no `resource`, no `os.fork`, no IPC transport). The sample class of 01_losses
must grade to exactly the scores the Linux pipeline gives (which
tests/test_grading.py proves equal to the kernel-free scores used here), with
a grading note for every protection the system lacks, and the self-learner's
command must grade the released notebook.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.course import ASSIGNMENTS, REPO_ROOT, SAMPLES
from sample_grading import autograded_total, grade_sample

pytestmark = pytest.mark.slow
SHIM = Path(__file__).parent / "platforms"
ASSIGNMENT = "01_losses"

# What each simulated system lacks, as the grading notes say it.
MISSING = {
    "macos": {sandbox.FILES: sandbox.NOT_SUPPORTED, sandbox.PROCESSES: sandbox.NOT_SUPPORTED,
              sandbox.NETWORK: sandbox.NOT_SUPPORTED, sandbox.DISK: sandbox.NOT_SUPPORTED,
              sandbox.MEMORY: "refused by this system (current limit exceeds maximum limit)"},
    "windows": {name: sandbox.NOT_SUPPORTED for name in sandbox.requested(1, 1, True, 1)},
}
KEPT = {"macos": [sandbox.FILE_SIZE, sandbox.NO_CORE], "windows": []}

# Printed by a simulated Python: which pieces it has.
PROBE = """
import ctypes, os, zmq
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, resource.getrlimit(resource.RLIMIT_AS))
    address_space = "limit accepted"
except ImportError:
    address_space = "no resource module"
except ValueError as err:
    address_space = str(err)
libc = ctypes.CDLL(None)
print(hasattr(libc, "unshare"), hasattr(libc, "mount"), hasattr(os, "fork"), zmq.has("ipc"), address_space)
"""
PIECES = {"macos": "False False True True current limit exceeds maximum limit",
          "windows": "False False False False no resource module"}


def _simulated_env(system: str) -> dict:
    return {**os.environ, "OPTIMLAB_SIMULATE": system,
            "PYTHONPATH": os.pathsep.join([str(SHIM), os.environ.get("PYTHONPATH", "")])}


def _grade(system: str, *args: str) -> str:
    """`optimlab-grade grade ARGS` in a simulated Python; what it printed."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", *args], env=_simulated_env(system),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def _notes(system: str) -> list[str]:
    return [f"graded without {name}: {why}" for name, why in MISSING[system].items()]


@pytest.fixture(params=["macos", "windows"])
def system(request):
    return request.param


def test_the_simulated_python_really_lacks_the_pieces(system):
    done = subprocess.run([sys.executable, "-c", PROBE], env=_simulated_env(system),
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == PIECES[system]
    # and the sandbox, run there, keeps exactly what the system offers
    done = subprocess.run([sys.executable, "-m", "autograder.sandbox", "--memory=4000000000", "--file-size=1000000",
                           "--no-network", "--disk=1000000", "--disk-root=/nonexistent", "--",
                           sys.executable, "-c", "import os; print(os.environ['OPTIMLAB_SANDBOX'])"],
                          env=_simulated_env(system), capture_output=True, text=True, check=True)
    summary = done.stdout.strip()
    assert summary.startswith("partial: ")
    assert set(summary.removeprefix("partial: ").split("; ")) == {f"without {n}: {w}" for n, w in MISSING[system].items()}


def test_the_sample_class_grades_to_its_linux_scores_with_notes(system, tmp_path):
    folder = tmp_path / "class" / ASSIGNMENT
    shutil.copytree(SAMPLES / ASSIGNMENT, folder, ignore=shutil.ignore_patterns("__*"))
    course = tmp_path / "course"
    _grade(system, str(tmp_path / "class"), "--course-dir", str(course), "--workers", "2")
    rows = {r["student"]: r for r in csv.DictReader((course / "class_grades.csv").open())}
    students = sorted(p.stem for p in folder.glob("*.ipynb"))
    assert sorted(rows) == students
    for student in students:
        linux = autograded_total(grade_sample(ASSIGNMENT, student))
        assert rows[student]["score"] == f"{linux:.2f}", student
        assert rows[student]["problem"] == ""
        html = (course / "feedback" / student / ASSIGNMENT / "losses.html").read_text()
        for note in _notes(system):
            assert note[1:] in html, (student, note)


def test_the_self_learners_command_grades_a_notebook(system, tmp_path):
    out = _grade(system, str(ASSIGNMENTS / ASSIGNMENT / "losses.ipynb"), "--course-dir", str(tmp_path / "mine"))
    assert "self" in out
    html = (tmp_path / "mine" / "feedback" / "self" / ASSIGNMENT / "losses.html").read_text()
    assert html.count("raised NotImplementedError") == 8  # the kernel ran every function's test
    for note in _notes(system):
        assert note[1:] in html
