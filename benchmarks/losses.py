"""Item 1: the references' vectorized losses against their naive loops, and analytic against numeric gradients.

The losses are assignment 2's `svm_loss_*` and `softmax_loss_*` (W, X, y, reg)
-> (loss, dW), taken from the master notebook by `autograder.reference`, on
the CIFAR-10 dev split: X (500, 3073) float64 with the bias column, 10 classes.

The numeric gradient is the reference `eval_numerical_gradient` applied to the
vectorized loss. Over all 30,730 entries of W it makes 61,460 loss
evaluations (a minute or more), so it is timed on the first rows of W only
(a view: each entry costs the same two full loss evaluations) and scaled to
the whole of W; the row records how many entries were timed.
"""
from __future__ import annotations

import numpy as np

from autograder.reference import load_reference
from benchmarks.report import Row, speed_row
from benchmarks.threads import thread_count
from benchmarks.timing import interleaved
from optimlab.data import get_cifar10_data

GOAL = 100.0  # vectorized at least 100x faster than the loops
REG = 5e-6


def dev_problem(quick: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """W (D, C) small random weights, X_dev (N, D), y_dev (N,) and whether the data is the sample.

    Quick: the first 100 dev rows of the sample data.
    """
    data = get_cifar10_data(use_sample=quick)
    X, y = data["X_dev"], data["y_dev"]
    if quick:
        X, y = X[:100], y[:100]
    W = 1e-4 * np.random.default_rng(0).standard_normal((X.shape[1], len(data["classes"])))
    return W, X, y, data["is_sample"]


def numeric_gradient_on_rows(numeric_gradient, loss, W, X, y, rows: int):
    """`numeric_gradient(f, x)` over the first `rows` rows of W (D, C) only, f being `loss(W, X, y, reg)[0]`.

    The numeric gradient sees a view of those rows; changing an entry of the
    view changes W, which the loss reads in full, exactly as over the whole of W.
    Returns the (rows, C) gradient.
    """
    return numeric_gradient(lambda _: loss(W, X, y, REG)[0], W[:rows])


def vectorized_rows(ref, W, X, y, reps: int, judged: bool) -> list[Row]:
    """Vectorized against naive loss and gradient, SVM then softmax."""
    size = f"{X.shape[0]} x {X.shape[1]}, {W.shape[1]} classes"
    rows = []
    for loss_name, naive, vectorized in (("SVM", ref.svm_loss_naive, ref.svm_loss_vectorized),
                                         ("softmax", ref.softmax_loss_naive, ref.softmax_loss_vectorized)):
        times = interleaved({"naive": lambda: naive(W, X, y, REG),
                             "vectorized": lambda: vectorized(W, X, y, REG)}, reps)
        rows.append(speed_row("losses", f"{loss_name} loss and gradient, vectorized ({size})",
                              times["vectorized"], "naive loops", times["naive"],
                              GOAL, f">= {GOAL:.0f}x", judged=judged))
    return rows


def gradient_rows(ref, W, X, y, reps: int, timed_rows: int) -> list[Row]:
    """The vectorized analytic gradient against the numeric one over all of W, SVM then softmax."""
    size = f"{X.shape[0]} x {X.shape[1]}, {W.shape[1]} classes"
    entries = W[:timed_rows].size
    rows = []
    for loss_name, vectorized in (("SVM", ref.svm_loss_vectorized), ("softmax", ref.softmax_loss_vectorized)):
        times = interleaved({
            "analytic": lambda: vectorized(W, X, y, REG),
            "numeric": lambda: numeric_gradient_on_rows(ref.eval_numerical_gradient, vectorized, W, X, y, timed_rows),
        }, reps)
        numeric = [seconds * W.size / entries for seconds in times["numeric"]]  # every entry costs the same
        rows.append(speed_row("losses", f"{loss_name} gradient, analytic ({size})", times["analytic"],
                              "numeric gradient", numeric, None, "-",
                              note=f"numeric: {entries:,} of {W.size:,} entries timed, scaled"))
    return rows


def run(quick: bool, reps: int | None, threads: int) -> tuple[list[Row], dict]:
    """Rows: SVM and softmax vectorized vs naive, then analytic vs numeric gradient, with `threads` BLAS threads."""
    reps = reps or (3 if quick else 7)
    ref = load_reference("02_gradients")
    W, X, y, is_sample = dev_problem(quick)
    with thread_count(threads):
        rows = vectorized_rows(ref, W, X, y, reps, judged=not quick)
        rows += gradient_rows(ref, W, X, y, reps, timed_rows=1 if quick else 100)
    details = {"shape": {"X": list(X.shape), "W": list(W.shape)}, "sample_data": is_sample, "reg": REG,
               "threads": threads}
    return rows, details
