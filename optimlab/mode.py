"""The one switch heavy notebook cells read: fast mode or full mode.

Fast mode (environment variable `OPTIMLAB_FAST=1`) is what the autograder and
the test suite use: the bundled sample data and a few iterations, so a whole
notebook runs in seconds. Full mode is what a student runs: the real CIFAR-10
(when downloaded) and full-length training. Grading never depends on
training results, so fast mode changes no score.

`nbgrader validate` (the Validate button) also runs in fast mode: what it
reports comes from the self-checks alone, as grading does, and full-length
training would only make the student wait (and run into nbgrader's default
time limit of 30 seconds per cell).
"""
from __future__ import annotations

import os


def validating() -> bool:
    """Whether this process runs under `nbgrader validate` (nbgrader sets NBGRADER_VALIDATING=1 for it)."""
    return os.environ.get("NBGRADER_VALIDATING", "") == "1"


VALIDATING: bool = validating()
FAST: bool = VALIDATING or os.environ.get("OPTIMLAB_FAST", "").strip().lower() not in ("", "0", "false", "no")


def pick(fast, full):
    """`fast` in fast mode, `full` otherwise: `num_iters = pick(20, 1500)`."""
    return fast if FAST else full


def describe() -> str:
    """One line for the top of a notebook saying which mode is on."""
    if VALIDATING:
        return "Fast mode (nbgrader validate): sample data and short runs, as the autograder uses."
    if FAST:
        return "Fast mode (OPTIMLAB_FAST=1): sample data and short runs, as the autograder uses."
    return "Full mode: real CIFAR-10 when downloaded, full-length runs."
