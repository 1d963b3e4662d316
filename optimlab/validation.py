"""What the Validate button (`nbgrader validate`) reports: failing self-checks and unfilled answers.

nbgrader's validator runs the whole notebook but only looks at the graded
cells, and in a student's notebook a hidden-test cell holds little more than a
comment. So each self-check cell records how it ended, and the graded cell of
the same function confirms it:

    with self_check("svm_loss"):           # in the self-check cell under svm_loss
        check_close(...)

    confirm_self_check("svm_loss")         # in the hidden-test cell of svm_loss

    confirm_answered("loss_facts", loss_facts)   # in the hidden-test cell of an answer value

The confirmations raise only while the notebook is validated (nbgrader sets
NBGRADER_VALIDATING=1 in the kernel's environment): then a failing self-check
or an answer still to fill fails that graded cell, and the validator prints the
reason. Anywhere else (a student running the cell, the autograder) they do
nothing, so grading never depends on them: the hidden tests score the cell.
"""
from __future__ import annotations

import textwrap

from optimlab.mode import validating

# nbgrader's validator prints every line of an error cut at 87 characters
# (its 90-column width, less "..."), after an indent of 4.
_LINE = 82
_PREFIX = len("SelfCheckFailed: ")


class NotReady(AssertionError):
    """Why Validate fails at a graded cell; shown as its one message, without a traceback."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the validator prints the
        # graded cell's source above them, and our frames would only add noise.
        return f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}".split("\n")


class SelfCheckFailed(NotReady):
    """A self-check of the notebook fails (or did not run)."""


class AnswerMissing(NotReady):
    """A function is not written yet, or an answer value is still None."""


class _NotRun:
    """The outcome of a self-check that never started."""


NOT_RUN = _NotRun()
# name of a self-check -> None (it passed), the exception that ended it, or NOT_RUN while it runs
_outcomes: dict[str, BaseException | _NotRun | None] = {}


class self_check:
    """`with self_check("svm_loss"):` records whether the checks in the block pass.

    An exception raised in the block is recorded and goes on as usual (the cell
    shows it); leaving the block normally records a pass. The latest run counts.
    """

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> "self_check":
        _outcomes[self.name] = NOT_RUN  # started; replaced when the block ends either way
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        _outcomes[self.name] = error
        return False  # never swallow the failure: the self-check cell shows it


def _raised_in(error: BaseException) -> str:
    """The name of the function whose code raised `error` (innermost frame)."""
    tb = error.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name


def _wrapped(text: str) -> str:
    """`text` in lines the validator prints whole (the first line follows the exception's name)."""
    return textwrap.fill(" ".join(text.split()), width=_LINE, initial_indent=" " * _PREFIX,
                         break_on_hyphens=False, break_long_words=False)[_PREFIX:]


def self_check_problem(name: str) -> tuple[type[AssertionError], str] | None:
    """Why the self-check `name` does not count as passed, or None when it passed.

    Returns the exception class to raise and its message.
    """
    outcome = _outcomes.get(name, NOT_RUN)
    if outcome is None:
        return None
    if outcome is NOT_RUN:
        return SelfCheckFailed, (f"The self-check of {name} did not run: its cell stopped before it "
                                 "(fix the failure shown there first) or was not run.")
    if isinstance(outcome, NotImplementedError):
        unwritten = _raised_in(outcome)
        if unwritten in ("", "<module>", name):
            return AnswerMissing, (f"{name} is not written yet: replace `raise NotImplementedError()` "
                                   "in its cell with your code.")
        return AnswerMissing, f"The self-check of {name} needs {unwritten}, which is not written yet."
    message = str(outcome).strip()
    if isinstance(outcome, AssertionError) and message.startswith("FAIL"):
        return SelfCheckFailed, f"The self-check of {name} fails: {message}"
    where = _raised_in(outcome)
    where = f" (raised in {where})" if where not in ("", "<module>") else ""
    return SelfCheckFailed, (f"The self-check of {name} stops with "
                             f"{type(outcome).__name__}{': ' + message if message else ''}{where}.")


def confirm_self_check(name: str) -> None:
    """While validating, fails when the self-check of `name` failed, did not run or met unwritten code."""
    problem = self_check_problem(name)
    if problem is not None and validating():
        kind, message = problem
        raise kind(_wrapped(message))


def unfilled_entries(value) -> list[str]:
    """The keys (paths, for nested values) of `value` that are still None; [""] if `value` itself is."""
    if value is None:
        return [""]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        found += [f"{key}{'/' + inner if inner else ''}" for inner in unfilled_entries(item)]
    return found


def confirm_answered(name: str, value) -> None:
    """While validating, fails when the answer `value` (named `name`) still holds None anywhere."""
    missing = unfilled_entries(value)
    if not missing or not validating():
        return
    if missing == [""]:
        message = f"{name} is not filled in yet: it is still None."
    else:
        listed = ", ".join(missing)
        message = (f"{name} is not filled in yet: replace None with your answer for "
                   f"{len(missing)} of its entries ({listed}).")
    raise AnswerMissing(_wrapped(message))
