"""Every master notebook runs top to bottom in fast mode, and every student
notebook runs with only the cells that await the student's work failing."""
import os
import time
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


@pytest.mark.parametrize("assignment", assignment_ids())
def test_master_notebook_runs_clean_in_fast_mode(assignment):
    nb, seconds = execute(master_notebook(assignment), allow_errors=False)
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
