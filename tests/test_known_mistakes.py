"""Every known mistake is named by the hidden tests, or is listed here with why it cannot be.

A known mistake is a `Mistake(...)` of `autograder/specs/`. One written as a
wrong function (`variant`) is graded as a submission in test_scoring.py, which
proves a failing case names it. One recognised from a behaviour (`when`: inputs
written in place, NumPy code on array_api_strict arrays, a missing
hyperparameter, a result that is not finite) is shown here by an example: the
reference from the master notebook with that behaviour added, graded as a
submission; its diagnosis must be among the feedback's. Mistakes students make
that no hidden case can tell from a right answer are listed in UNRECOGNISABLE,
each with the reason and a submission proving it earns full marks.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder import harness
from autograder.course import assignment_ids
from autograder.reference import load_reference
from autograder.scoring import score_results
from autograder.specs import load_spec

POINTS = 4.0


def _arrays(args) -> list:
    """The positional arguments that are arrays (NumPy or another Array-API library)."""
    return [a for a in args if hasattr(a, "__array_namespace__")]


def writes_into_its_input(reference):
    """Computes the right result, then writes into its first array argument (`w -= ...`, `X[...] = ...`)."""
    def wrong(*args):
        out = reference(*args)
        first = _arrays(args)[0]
        first[...] = first * 2 + 1
        return out
    return wrong


def numpy_only(reference):
    """Turns every array argument into a NumPy array first (np.asarray), as NumPy-only code does."""
    def wrong(*args):
        return reference(*(np.asarray(a) if hasattr(a, "__array_namespace__") else a for a in args))
    return wrong


def forgets_a_default(reference):
    """An update rule that reads its learning rate with config.get(...) and never stores the default."""
    def wrong(w, dw, config=None):
        next_w, config = reference(w, dw, config)
        return next_w, {k: v for k, v in config.items() if k != "learning_rate"}
    return wrong


def not_finite(reference):
    """A loss that overflows: its value comes out infinite (exp of large scores without the shift)."""
    def wrong(*args):
        out = reference(*args)
        return (float("inf"), *out[1:]) if isinstance(out, tuple) else float("inf")
    return wrong


def first_step_not_finite(reference):
    """An update rule whose first step divides by 1 - beta**0 = 0 (t incremented after use)."""
    def wrong(w, dw, config=None):
        first = config is None or "t" not in config
        next_w, config = reference(w, dw, config)
        return (next_w * float("nan") if first else next_w), config
    return wrong


def unseeded_minibatches(reference):
    """Training that draws its minibatches from a fresh, unseeded generator instead of `rng`."""
    def wrong(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
        return reference(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size, np.random.default_rng())
    return wrong


def divides_by_zero_at_start(reference):
    """lr0 / sqrt(t) with no guard for t = 0."""
    def wrong(t, lr0):
        xp = t.__array_namespace__() if hasattr(t, "__array_namespace__") else np
        with np.errstate(divide="ignore"):
            return lr0 / xp.sqrt(xp.asarray(t, dtype=xp.float64))
    return wrong


# Words of a behaviour mistake's message -> the behaviour that shows it.
BEHAVIOURS = {
    "in place": writes_into_its_input,
    "writes into": writes_into_its_input,
    "array_api_strict arrays": numpy_only,
    "lacks a hyperparameter": forgets_a_default,
    "overflows for large scores": not_finite,
    "not finite for scores of magnitude": not_finite,
    "first step is not finite": first_step_not_finite,
    "generators of the same seed": unseeded_minibatches,
    "divides by sqrt(0)": divides_by_zero_at_start,
}

# dropout_backward is graded on the cache of the dropout_forward found beside it (in the globals of
# the function graded): the examples of this module find the reference's.
dropout_forward = load_reference("05_dropout").dropout_forward

ALL = [(a, name, m) for a in assignment_ids() for name, check in load_spec(a).items() for m in check.mistakes]
BEHAVIOUR_MISTAKES = [(a, name, m) for a, name, m in ALL if m.variant is None]


def _behaviour(message: str):
    found = [make for words, make in BEHAVIOURS.items() if words in message]
    return found[0] if found else None


def _graded(assignment: str, check: str, obj):
    return score_results(assignment, check, harness.collect(assignment, check, obj), POINTS)


def test_every_known_mistake_is_shown_by_a_variant_or_a_behaviour():
    unexplained = [(a, name, m.message) for a, name, m in BEHAVIOUR_MISTAKES if _behaviour(m.message) is None]
    assert not unexplained, "a behaviour mistake with no example here: add one to BEHAVIOURS"
    # The enumeration is not vacuous (in-place writes of losses, update rules and dropout are variants now).
    assert len(ALL) >= 190 and len(BEHAVIOUR_MISTAKES) >= 25


@pytest.mark.parametrize("assignment,check,mistake", BEHAVIOUR_MISTAKES,
                         ids=[f"{a}-{n}-{m.message[:40]}" for a, n, m in BEHAVIOUR_MISTAKES])
def test_a_behaviour_mistake_loses_points_and_is_named(assignment, check, mistake):
    reference = getattr(load_reference(assignment), check)
    outcome = _graded(assignment, check, _behaviour(mistake.message)(reference))
    assert outcome.score < POINTS, outcome.feedback()
    assert mistake.message in outcome.diagnoses, outcome.feedback()


# Mistakes students make that hidden tests cannot see, and why.
UNRECOGNISABLE = {
    ("01_losses", "svm_loss", "the vectorized loss calls the loop version"):
        "it returns the same numbers; it is only slower, which the benchmarks measure, not the grade",
    ("01_losses", "softmax_loss", "the vectorized loss calls the loop version"):
        "it returns the same numbers; it is only slower, which the benchmarks measure, not the grade",
    ("03_optimizers", "sgd_momentum", "the velocity accumulates gradients and the step multiplies by the "
                                      "learning rate (v = rho v + dw; w - lr v)"):
        "it is the lecture's second form of momentum, the same trajectory: right, not a mistake",
    ("03_optimizers", "adam", "the config dict is copied and returned instead of updated in place"):
        "the API allows either; the driver carries whatever config the rule returns",
}


def _calls_the_loop_version(assignment, check):
    return getattr(load_reference(assignment), check.replace("_loss", "_loss_naive"))


def _momentum_second_form(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = w.__array_namespace__()
    v = config["momentum"] * config.get("velocity", xp.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config


def _returns_a_new_config(assignment, check):
    reference = getattr(load_reference(assignment), check)

    def rule(w, dw, config=None):
        next_w, new = reference(w, dw, None if config is None else dict(config))
        return next_w, dict(new)
    return rule


UNRECOGNISABLE_SUBMISSIONS = {
    "the vectorized loss calls the loop version": _calls_the_loop_version,
    "the velocity accumulates gradients": lambda assignment, check: _momentum_second_form,
    "the config dict is copied": _returns_a_new_config,
}


@pytest.mark.parametrize("assignment,check,what", sorted(UNRECOGNISABLE))
def test_what_hidden_tests_cannot_see_earns_full_marks(assignment, check, what):
    assert UNRECOGNISABLE[(assignment, check, what)]  # the reason is written down
    make = next(m for words, m in UNRECOGNISABLE_SUBMISSIONS.items() if what.startswith(words))
    outcome = _graded(assignment, check, make(assignment, check))
    assert outcome.score == POINTS and outcome.diagnoses == [], outcome.feedback()
