"""Item 4: how long each master notebook takes from kernel start to last cell, in full and in fast mode.

Full mode is what a student runs (the real CIFAR-10 when downloaded,
full-length training); fast mode (`OPTIMLAB_FAST=1`) is what grading and the
test suite run. There is no other implementation to compare with: the peer
of each row is its time budget (5 minutes in full mode, 20 seconds in fast
mode), so the ratio is the budget over the time taken.
"""
from __future__ import annotations

import math
import os
import statistics
import subprocess
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import assignment_ids, master_notebook
from benchmarks.report import Row
from optimlab.data.cifar10 import has_all_batch_files, real_data_dir

BUDGET = {"full": 300.0, "fast": 20.0}


def execute_seconds(path: Path, fast: bool, threads: int) -> float:
    """Seconds to run the notebook at `path` top to bottom in a fresh kernel (nothing is written back)."""
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "OPTIMLAB_FAST"}
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if fast:
        env["OPTIMLAB_FAST"] = "1"
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # the kernel's own start-up notices
    return time.perf_counter() - start


def _row(assignment: str, mode: str, seconds: list[float], judged: bool, note: str) -> Row:
    budget = BUDGET[mode]
    finite = [s for s in seconds if math.isfinite(s)]
    value = statistics.median(finite) if finite else math.nan
    row = Row("notebooks", f"{assignment} master notebook, {mode} mode", value, "budget", budget,
              f"<= {budget:g} s", None, reps=len(seconds), seconds=seconds, peer_seconds=[budget], note=note)
    if judged and finite:
        row.met = bool(value <= budget)
    return row


def _repeated(assignment: str, mode: str, count: int, threads: int, failures: dict) -> list[float]:
    """Seconds of `count` runs of the master notebook (NaN for a run that failed, its error in `failures`)."""
    seconds = []
    for _ in range(count):
        try:
            seconds.append(execute_seconds(master_notebook(assignment), mode == "fast", threads))
        except Exception as err:  # noqa: BLE001 - a failing notebook is reported, the rest still run
            failures[f"{assignment} {mode}"] = f"{type(err).__name__}: {str(err)[-300:]}"
            seconds.append(math.nan)
    return seconds


def run(quick: bool, reps: int | None, threads: int) -> tuple[list[Row], dict]:
    """Rows: every master notebook in full mode (once unless `reps` is given), then in fast mode.

    Quick: the first notebook in fast mode only.
    """
    real = has_all_batch_files(real_data_dir())
    assignments = assignment_ids()[:1] if quick else assignment_ids()
    modes = {"fast": reps or 1} if quick else {"full": reps or 1, "fast": reps or 3}
    rows, failures = [], {}
    for mode, count in modes.items():
        for assignment in assignments:
            seconds = _repeated(assignment, mode, count, threads, failures)
            notes = ["FAILED, see the JSON"] if f"{assignment} {mode}" in failures else []
            if mode == "full" and not real:
                notes.append("sample data: CIFAR-10 is not downloaded")
            rows.append(_row(assignment, mode, seconds, judged=not quick and (mode == "fast" or real),
                             note="; ".join(notes)))
    return rows, {"threads": threads, "real_data": real, "failures": failures}
