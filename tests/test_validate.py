"""The Validate button (`nbgrader validate`) tells the truth.

It reports every self-check that fails, with its message, every function still
to write and every answer still to fill, and says "Success!" only when there
is none: with nbgrader's default configuration in a student's folder, and from
the course root with the course's configuration.
"""
import ast
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, REPO_ROOT, assignment_ids, master_notebook
from autograder.preprocessors import SUBMIT_CALL
from autograder.specs import load_spec
from optimlab import validation
from optimlab.checks import check_close
from optimlab.validation import (AnswerMissing, SelfCheckFailed, confirm_answered, confirm_self_check,
                                 self_check)

VALIDATOR_LINE = 87   # nbgrader's validator cuts every printed line at this many characters


@pytest.fixture
def outcomes(monkeypatch):
    """A fresh record of self-check outcomes, under `nbgrader validate`."""
    monkeypatch.setattr(validation, "_outcomes", {})
    monkeypatch.setenv("NBGRADER_VALIDATING", "1")


def _run_self_check(name, body):
    """Runs `body` in `with self_check(name)`, as a self-check cell does, keeping its failure quiet."""
    try:
        with self_check(name):
            body()
    except Exception:  # noqa: BLE001 - the cell shows it; here only the record matters
        pass


def _confirm_message(name) -> tuple[type, str]:
    with pytest.raises(AssertionError) as info:
        confirm_self_check(name)
    return info.type, " ".join(str(info.value).split())


def test_a_passing_self_check_is_confirmed(outcomes):
    _run_self_check("svm_loss", lambda: check_close("loss", 5.27, 5.27))
    confirm_self_check("svm_loss")   # no exception


def test_a_failing_self_check_fails_with_its_message(outcomes):
    _run_self_check("softmax_loss", lambda: check_close("vectorized equals naive", 124.51, 2.49021))
    kind, message = _confirm_message("softmax_loss")
    assert kind is SelfCheckFailed
    assert message.startswith("The self-check of softmax_loss fails: FAIL vectorized equals naive: yours 124.51")


def test_the_latest_run_of_a_self_check_counts(outcomes):
    _run_self_check("svm_loss", lambda: check_close("loss", 3.0, 5.27))
    _run_self_check("svm_loss", lambda: check_close("loss", 5.27, 5.27))
    confirm_self_check("svm_loss")


def test_a_function_still_to_write_is_named(outcomes):
    def svm_loss(scores, y):
        raise NotImplementedError()

    def train(loss_fn):
        return loss_fn(None, None)

    _run_self_check("svm_loss", lambda: svm_loss(None, None))
    _run_self_check("train", lambda: train(svm_loss))
    assert _confirm_message("svm_loss") == (AnswerMissing, "svm_loss is not written yet: replace "
                                            "`raise NotImplementedError()` in its cell with your code.")
    assert _confirm_message("train") == (AnswerMissing, "The self-check of train needs svm_loss, "
                                         "which is not written yet.")


def test_a_crash_and_a_self_check_that_never_ran_are_reported(outcomes):
    def broken(x):
        return x + "1"

    _run_self_check("broken", lambda: broken(1))
    kind, message = _confirm_message("broken")
    assert kind is SelfCheckFailed and message.startswith("The self-check of broken stops with TypeError: ")
    assert message.endswith("(raised in broken).")
    kind, message = _confirm_message("never_ran")
    assert kind is SelfCheckFailed and message.startswith("The self-check of never_ran did not run")


def test_answers_still_none_are_listed(outcomes):
    confirm_answered("facts", {"a": 1.0, "b": False, "c": 0})
    with pytest.raises(AnswerMissing) as info:
        confirm_answered("facts", {"a": None, "b": 2.0, "table": {"sgd": None, "adam": (True, None)}})
    message = " ".join(str(info.value).split())
    assert message == ("facts is not filled in yet: replace None with your answer for 3 of its entries "
                       "(a, table/sgd, table/adam/1).")
    with pytest.raises(AnswerMissing, match="it is still None"):
        confirm_answered("facts", None)


def test_nothing_is_raised_outside_validation(monkeypatch):
    """A student running the cell, and the autograder, never see these errors: the hidden tests score it."""
    monkeypatch.setattr(validation, "_outcomes", {})
    monkeypatch.delenv("NBGRADER_VALIDATING", raising=False)
    _run_self_check("softmax_loss", lambda: check_close("loss", 124.51, 2.49021))
    confirm_self_check("softmax_loss")
    confirm_self_check("never_ran")
    confirm_answered("facts", {"a": None})


def test_messages_fit_the_validator_and_show_without_a_traceback(outcomes):
    hint = "Subtract each row's maximum before exponentiating, " * 4
    _run_self_check("softmax_loss", lambda: check_close("a long label " * 5, [[1.0, 2.0]] * 6, [[1.5, 2.0]] * 6,
                                                        hint=hint))
    with pytest.raises(SelfCheckFailed) as info:
        confirm_self_check("softmax_loss")
    lines = info.value._render_traceback_()
    assert lines[0].startswith("\x1b[0;31mSelfCheckFailed\x1b[0m: The self-check of softmax_loss fails: FAIL")
    shown = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert len(shown) > 2 and all(len("    " + line) <= VALIDATOR_LINE for line in shown), shown
    assert " ".join(" ".join(shown).split()).endswith(" ".join(hint.split()))


def test_fast_mode_while_validating():
    """A student's Validate runs the heavy cells as grading does, in seconds, whatever OPTIMLAB_FAST says."""
    code = "from optimlab import mode; print(mode.FAST, mode.pick('fast', 'full'), mode.describe())"
    env = {"PATH": "/usr/bin:/bin", "NBGRADER_VALIDATING": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("True fast Fast mode (nbgrader validate)")
    del env["NBGRADER_VALIDATING"]
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("False full Full mode")


# --- the notebooks follow the convention --------------------------------------------------------

def _self_check_blocks(source: str) -> list[str]:
    """Names of the `with self_check("name"):` blocks of a cell."""
    names = []
    for node in ast.walk(ast.parse(re.sub(r"^%.*$", "", source, flags=re.M))):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "self_check":
                    names.append(call.args[0].value)
    return names


@pytest.mark.parametrize("assignment", assignment_ids())
def test_every_graded_cell_confirms_its_self_check_or_answer(assignment):
    """Each hidden-test cell ends with a visible line after its hidden region (so the hidden
    tests publish their results first) that confirms the self-check of its function, or for
    an answer value that it is filled; each self-check it confirms runs in a cell above it."""
    checks = load_spec(assignment)
    nb = nbformat.read(master_notebook(assignment), as_version=4)
    released = {c.id: c for c in nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name,
                                               as_version=4).cells}
    blocks_above: set[str] = set()
    confirmed = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        blocks_above.update(_self_check_blocks(cell.source))
        if not (meta.get("grade") and not meta.get("solution")):
            continue
        name = SUBMIT_CALL.search(cell.source).group(2)
        confirm = (f'confirm_answered("{name}", {name})' if checks[name].is_value
                   else f'confirm_self_check("{name}")')
        hidden_end = cell.source.index("### END HIDDEN TESTS")
        assert cell.source.rstrip().endswith(confirm) and cell.source.index(confirm) > hidden_end, cell.source
        assert released[cell.id].source.rstrip().endswith(confirm), "students see the confirmation"
        if not checks[name].is_value:
            assert name in blocks_above, f"no `with self_check({name!r})` runs before the graded cell of {name}"
        confirmed.add(name)
    assert confirmed == set(checks), "every hidden test's cell confirms something"


@pytest.mark.parametrize("assignment", assignment_ids())
def test_written_answers_are_named_where_the_student_writes(assignment):
    """nbgrader reports an unchanged written answer by printing its cell: the cell names its question."""
    nb = nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name, as_version=4)
    answers = [c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert answers
    for number, cell in enumerate(answers, start=1):
        assert cell.source == f"**Your answer to Question {number}:**\n\nYOUR ANSWER HERE"
