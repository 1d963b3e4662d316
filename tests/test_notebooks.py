"""Every master notebook runs top to bottom in fast mode, every student
notebook runs with only the cells that await the student's work failing, and
the results the prose states agree with what the cells print (#19)."""
import os
import re
import time
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import ASSIGNMENTS, assignment_ids, master_notebook

pytestmark = pytest.mark.slow


def execute(path: Path, allow_errors: bool) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "OPTIMLAB_FAST": "1", "MPLBACKEND": "Agg"}
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute(env=env)
    return nb, time.perf_counter() - start


def _outputs(nb, kind):
    return [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            for o in c.get("outputs", []) if o.output_type == kind]


@lru_cache(maxsize=None)
def executed_master(assignment: str) -> tuple[nbformat.NotebookNode, float]:
    """The master notebook of `assignment` run once in fast mode; the claims tests read its outputs."""
    return execute(master_notebook(assignment), allow_errors=False)


def printed(assignment: str, cell_id: str) -> str:
    """Everything the code cell `cell_id` of the executed master notebook printed."""
    nb, _ = executed_master(assignment)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


@pytest.mark.parametrize("assignment", assignment_ids())
def test_master_notebook_runs_clean_in_fast_mode(assignment):
    nb, seconds = executed_master(assignment)
    stderr = [(i, o.text[:200]) for i, o in _outputs(nb, "stream") if o.name == "stderr"]
    assert not stderr, f"the master notebook writes to stderr: {stderr}"
    passes = sum(o.text.count("PASS ") for _, o in _outputs(nb, "stream"))
    assert passes >= 10, "the visible self-checks ran and passed"
    print(f"{assignment}: master notebook ran in {seconds:.1f} s (fast mode)")


@pytest.mark.parametrize("assignment", assignment_ids())
def test_student_notebook_fails_only_where_work_is_due(assignment):
    path = ASSIGNMENTS / assignment / master_notebook(assignment).name
    nb, _ = execute(path, allow_errors=True)
    errors = _outputs(nb, "error")
    assert errors, "the untouched student notebook has work to do"
    unexpected = [(i, o.ename, o.evalue) for i, o in errors if o.ename != "NotImplementedError"]
    assert not unexpected, f"cells fail for other reasons than missing work: {unexpected}"


# --- the results the prose states agree with the outputs ----------------------------------------------


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"no match for {pattern!r} in:\n{text}"
    return float(found.group(1).replace(",", ""))


def test_learning_rate_labels_follow_from_the_printed_factors():
    """03, section 3: the lecture's label of each rate agrees with the size and sign of its factors."""
    lines = re.findall(r"lr = ([\d.]+): factors 1 - lr \* lambda = \[([^\]]+)\].*-> (.+)",
                       printed("03_optimizers", "cell-017"))
    assert [lr for lr, _, _ in lines] == ["0.01", "0.10", "0.11", "0.12"]
    for lr, factors, label in lines:
        factors = [float(f) for f in factors.split()]
        slowest = max(factors, key=abs)
        if abs(slowest) > 1:
            expected = "diverges"
        elif abs(slowest) ** 30 < 0.05:   # 30 steps leave less than 5% of the error
            expected = "converges"
        else:
            expected = "oscillates" if slowest < 0 else "falls short"
        assert label.strip() == expected, (lr, factors, label)


def test_the_training_set_size_printed_is_the_size_used():
    """03, sections 11-12 and 05, section 3: the sizes printed are what the data holds (the sample in fast mode)."""
    setup = printed("03_optimizers", "cell-066")
    num_train = _number(r"training on (\d+) images", setup)
    runs = printed("03_optimizers", "cell-068")
    assert set(re.findall(r"\(([\d,]+) training images\)", runs)) == {f"{min(5000, int(num_train)):,}"}
    lbfgs = printed("03_optimizers", "cell-073")
    assert f"L-BFGS on {min(500, int(num_train)):,} examples" in lbfgs   # fast mode's subset of the training set
    data = printed("05_dropout", "cell-017")
    num_train = _number(r"train: X \((\d+),", data)
    runs = printed("05_dropout", "cell-023")
    assert set(re.findall(r"\(([\d,]+) training images\)", runs)) == {f"{min(1000, int(num_train)):,}"}


def test_the_ranking_sentences_agree_with_the_numbers():
    """03: which rules end below SGD, and whether L-BFGS's validation accuracy is below the best minibatch run's."""
    runs = printed("03_optimizers", "cell-068")
    losses = {name.strip(): float(loss)
              for name, loss in re.findall(r"^\s*([\w +]+): training loss ([\d.]+)", runs, re.M)}
    assert len(losses) == 7
    ahead = [name for name, loss in losses.items() if loss < losses["SGD"]]
    assert f"ending below plain SGD's training loss: {', '.join(ahead) or 'none'}" in runs
    best = max(float(acc) for acc in re.findall(r"validation accuracy ([\d.]+)", runs))
    lbfgs = printed("03_optimizers", "cell-073")
    accuracy = _number(r"validation accuracy ([\d.]+)", lbfgs)
    relation = "below" if accuracy < best else "not below"
    assert f"L-BFGS's validation accuracy {accuracy:.3f} is {relation} the best minibatch run's, {best:.3f}" in lbfgs


def test_the_regularization_each_criterion_picks_is_the_printed_best():
    """04, section 4: the last line names the lambda of the highest training and cross-validation accuracy."""
    text = printed("04_schedules", "cell-051")
    rows = re.findall(r"lam = \s*([\de+.-]+): training accuracy ([\d.]+), cross-validation accuracy ([\d.]+)", text)
    assert len(rows) == 5
    picked = re.search(r"lam with the best training accuracy: (\S+); with the best cross-validation accuracy: (\S+)",
                       text)
    assert picked
    for column, choice in ((1, picked.group(1)), (2, picked.group(2))):
        best = max(float(r[column]) for r in rows)   # printed to 3 decimals: a tie there may go either way
        assert choice in {f"{float(r[0]):g}" for r in rows if float(r[column]) == best}, (column, rows, choice)
