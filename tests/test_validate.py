"""The Validate button (`nbgrader validate`) tells the truth.

It reports every self-check that fails, with its message, every function still
to write and every answer still to fill, and says "Success!" only when there
is none: with nbgrader's default configuration in a student's folder, and from
the course root with the course's configuration.
"""
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, REPO_ROOT, SAMPLES, assignment_ids, master_notebook
from autograder.preprocessors import SUBMIT_CALL
from autograder.specs import load_module, load_spec
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


# --- nbgrader validate, as a student and from the course root ---------------------------------

# One sample per assignment with a mistake its own self-check sees, and what Validate must name.
MISTAKES = {
    "01_losses": ("softmax_sums", {"softmax_loss": "FAIL vectorized equals naive on random scores"}),
    "02_gradients": ("gradient_not_averaged", {"svm_loss_vectorized": "FAIL", "softmax_loss_vectorized": "FAIL"}),
    "03_optimizers": ("updates_in_place", {"sgd": "FAIL"}),
    "04_schedules": ("cosine_degrees", {"cosine_decay": "FAIL cosine_decay at t = 0, T/2, T, 2T"}),
    "05_dropout": ("p_is_keep_probability", {"dropout_forward": "FAIL p = 0.2: fraction of entries kept"}),
}
SUMMARY = re.compile(r"^(Success!|VALIDATION FAILED|THE CONTENTS OF|THE TYPES OF)", re.M)
NAMED = [re.compile(r'confirm_self_check\("(\w+)"\)'), re.compile(r'confirm_answered\("(\w+)"'),
         re.compile(r"Your answer to (Question \d+)")]


def _sample(assignment: str, student: str):
    return SAMPLES / assignment / f"{student}.ipynb"


def _environment(home) -> dict[str, str]:
    """A student's environment: an empty home, no OptimLab or nbgrader variables (so no fast mode
    is asked for), one BLAS thread (the test runs two validations at once)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPTIMLAB_", "NBGRADER_", "JUPYTER", "IPYTHON"))}
    env.update(HOME=str(home), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def parse_validate_output(stdout: str) -> list[dict]:
    """nbgrader validate's report of each notebook, in order: {"success": bool, "failed": {name: error}}.

    A failing cell is named by what it confirms (the function or answer), or for a written answer by
    its question; the error is its text with the whitespace collapsed.
    """
    starts = [m.start() for m in SUMMARY.finditer(stdout)]
    reports = []
    for begin, end in zip(starts, starts[1:] + [len(stdout)]):
        chunk = stdout[begin:end]
        failed = {}
        for block in chunk.split("The following cell failed:")[1:]:
            source, _, error = block.partition("The error was:")
            names = [m.group(1) for pattern in NAMED for m in pattern.finditer(source)]
            failed[names[0] if names else source.strip().splitlines()[0]] = " ".join(error.split())
        reports.append({"success": chunk.startswith("Success!"), "failed": failed})
    return reports


def _validate_in(notebooks: list, cwd, home) -> tuple[subprocess.Popen, tuple]:
    """Starts `nbgrader validate` on `notebooks` in `cwd`, as a separate process writing to two files
    (a pipe nobody reads while it runs could fill up and stop it)."""
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    process = subprocess.Popen([sys.executable, "-m", "nbgrader", "validate", *map(str, notebooks)], cwd=cwd,
                               env=_environment(home), stdout=out, stderr=err, text=True)
    return process, (out, err)


def _output(files: tuple) -> tuple[str, str]:
    """What a finished `_validate_in` process wrote: (stdout, stderr)."""
    texts = []
    for file in files:
        file.seek(0)
        texts.append(file.read())
        file.close()
    return texts[0], texts[1]


def _run_all(jobs: dict, parallel: int = 2) -> dict:
    """Runs the validations of `jobs` ({key: (notebooks, cwd, home)}), `parallel` at a time.

    Returns {key: {notebook: report}}. A notebook nbgrader gave up on because the kernel's output
    came later than its default 4 seconds after a cell (`iopub_timeout`: it happens on a loaded
    machine, never because of the notebook) is validated again, alone, once.
    """
    results: dict = {key: {} for key in jobs}
    pending, running, retried = list(jobs.items()), {}, set()
    while pending or running:
        while pending and len(running) < parallel:
            key, (notebooks, cwd, home) = pending.pop(0)
            running[(key, tuple(notebooks))] = _validate_in(notebooks, cwd, home)
        time.sleep(0.2)
        for (key, notebooks), (process, files) in list(running.items()):
            if process.poll() is None:
                continue
            del running[(key, notebooks)]
            out, err = _output(files)
            reports = parse_validate_output(out)
            results[key].update(zip(notebooks, reports))
            if len(reports) < len(notebooks):   # nbgrader stops at a notebook it gives up on
                stopped, rest = notebooks[len(reports)], list(notebooks[len(reports) + 1:])
                assert (f"fatal error while trying to validate '{stopped}'" in err
                        and "Timeout waiting for IOPub output" in err and (key, stopped) not in retried), \
                    f"{key}: {len(reports)} reports of {notebooks}\n{out}\n{err[-3000:]}"
                retried.add((key, stopped))
                pending += [(key, (group,) + jobs[key][1:]) for group in ([stopped], rest) if group]
    return results


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """Every chosen notebook validated: {(configuration, assignment, student): report}.

    "student": nbgrader's default configuration, in a folder of copies without nbgrader_config.py and
    with an empty home: the untouched notebook, the reference and one mistake of every assignment.
    "course": from the repository root, with the course's nbgrader_config.py: the untouched notebook and
    the reference of 01_losses and the same mistakes.
    """
    home = tmp_path_factory.mktemp("home")
    jobs = {}
    for assignment in assignment_ids():
        folder = tmp_path_factory.mktemp(f"student_{assignment}")
        names = ["untouched", "reference", MISTAKES[assignment][0]]
        for name in names:
            shutil.copy(_sample(assignment, name), folder / f"{name}.ipynb")
        jobs[("student", assignment)] = ([f"{name}.ipynb" for name in names], folder, home)
        assert not (folder / "nbgrader_config.py").exists()
    course = [("01_losses", "untouched"), ("01_losses", "reference")] + [(a, s) for a, (s, _) in MISTAKES.items()]
    jobs[("course", None)] = ([_sample(a, s) for a, s in course], REPO_ROOT, home)
    results = _run_all(jobs)
    reports = {}
    for (configuration, assignment), by_notebook in results.items():
        for notebook, report in by_notebook.items():
            name = Path(notebook)
            reports[(configuration, assignment or name.parent.name, name.stem)] = report
    return reports


def _graded_names(assignment: str) -> dict[str, str]:
    """What the untouched notebook must be told, by graded name: the words its error must hold."""
    checks = load_spec(assignment)
    expected = {name: ("is not filled in yet" if check.is_value else "is not written yet")
                for name, check in checks.items()}
    nb = nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name, as_version=4)
    written = sum(c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution", False)
                  for c in nb.cells)
    expected.update({f"Question {k}": "You did not provide a response" for k in range(1, written + 1)})
    return expected


CONFIGURATIONS = [("student", a) for a in assignment_ids()] + [("course", "01_losses")]


@pytest.mark.slow
@pytest.mark.parametrize("configuration,assignment", CONFIGURATIONS)
def test_the_untouched_notebook_fails_naming_every_answer_to_fill(validated, configuration, assignment):
    report = validated[(configuration, assignment, "untouched")]
    expected = _graded_names(assignment)
    assert not report["success"]
    assert set(report["failed"]) == set(expected), report["failed"]
    for name, words in expected.items():
        assert words in report["failed"][name], (name, report["failed"][name])


@pytest.mark.slow
@pytest.mark.parametrize("configuration,assignment", CONFIGURATIONS)
def test_the_reference_passes(validated, configuration, assignment):
    report = validated[(configuration, assignment, "reference")]
    assert report == {"success": True, "failed": {}}


@pytest.mark.slow
@pytest.mark.parametrize("configuration", ["student", "course"])
@pytest.mark.parametrize("assignment", assignment_ids())
def test_a_mistake_a_self_check_sees_fails_validation_naming_it(validated, configuration, assignment):
    """The self-check's own FAIL message is printed, under the graded cell of the function; no
    function is blamed whose self-check does not run the changed code."""
    student, expected = MISTAKES[assignment]
    report = validated[(configuration, assignment, student)]
    assert not report["success"]
    for name, words in expected.items():
        assert f"The self-check of {name} fails: " in report["failed"][name], report["failed"]
        assert words in report["failed"][name]
    assert set(report["failed"]) <= may_be_blamed(assignment, student), report["failed"]


def may_be_blamed(assignment: str, student: str) -> set[str]:
    """The graded names whose self-check runs a function the sample changed (directly, or through
    another of its answers): the only ones Validate may name for it."""
    changed = set(load_module(assignment).SAMPLES[student])
    nb = nbformat.read(_sample(assignment, student), as_version=4)
    graded = set(load_spec(assignment))
    calls: dict[str, set[str]] = {}   # answer function -> graded names its code uses
    blocks: dict[str, set[str]] = {}  # self-check -> graded names its block uses
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(re.sub(r"^%.*$", "", cell.source, flags=re.M))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in graded:
                calls[node.name] = _loaded(node) & graded
            for name in _self_check_blocks(ast.unparse(node)) if isinstance(node, ast.With) else []:
                blocks[name] = _loaded(node) & graded
    def reaches(names: set[str]) -> bool:
        seen, todo = set(), list(names)
        while todo:
            name = todo.pop()
            if name in changed:
                return True
            if name not in seen:
                seen.add(name)
                todo += calls.get(name, set())
        return False
    return changed | {name for name, used in blocks.items() if reaches(used)}


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
