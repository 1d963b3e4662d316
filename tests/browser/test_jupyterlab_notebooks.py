"""Every notebook as a student and an instructor see it in JupyterLab.

A student opens an untouched notebook and runs it: only the cells that need their
work fail, and each with the NotImplementedError of an unfinished function. The
master notebooks run clean, every visible self-check passing. Both render their
math, plots and progress bars legibly; a screenshot of each is saved.
"""
import re

import nbformat
import pytest

from autograder.course import assignment_ids, master_notebook
from expectations import expected_failures, unfinished_functions
from lab_ui import Notebook, png_size
from rendering import math_spans, rendering_problems

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RUN_TIMEOUT = 120   # seconds for one Run All in fast mode (each takes under 15 s here)


def _open(page, server, folder: str, assignment: str):
    rel = f"{folder}/{assignment}/{master_notebook(assignment).name}"
    nb = nbformat.read(server.root / rel, as_version=4)
    notebook = Notebook(page, server, rel, len(nb.cells))
    cells = notebook.cells()
    assert [c.type for c in cells] == [c.cell_type for c in nb.cells], "the page shows every cell, in order"
    return nb, notebook


def _check_rendering(nb, notebook, screenshots, name):
    sources = [c.source for c in nb.cells]
    notebook.wait_typeset(sum(math_spans(s) for s, c in zip(sources, nb.cells) if c.cell_type == "markdown"))
    with notebook.full_height():
        cells = notebook.cells()
        shot = screenshots(name)
        notebook.page.screenshot(path=str(shot))
    width, height = png_size(shot)
    assert width == notebook.page.viewport_size["width"] and height > 2000
    problems = rendering_problems(cells, sources)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("assignment", assignment_ids())
def test_student_notebook_fails_only_where_work_is_due(assignment, page, jupyter_server, screenshots):
    nb, notebook = _open(page, jupyter_server, "assignments", assignment)
    seconds, runs = notebook.run_everything(RUN_TIMEOUT)
    cells = notebook.cells()
    code = [c for c in cells if c.type == "code"]
    assert all(c.executed for c in code), "every cell ran once"

    path = jupyter_server.root / "assignments" / assignment / master_notebook(assignment).name
    expected = expected_failures(path)
    failing = {c.index: c for c in code if c.errors}
    unexpected = {i: failing[i].errors[0].text[-400:] for i in sorted(set(failing) - set(expected))}
    assert not unexpected, f"cells fail that need no work: {unexpected}"
    missing = {i: sorted(expected[i]) for i in sorted(set(expected) - set(failing))}
    assert not missing, f"cells ran although they use unfinished work: {missing}"
    assert len(failing) == len(expected)
    assert runs <= 1 + len(expected), "Run All stops only where a cell fails"
    todo = unfinished_functions(path)
    for index, cell in failing.items():
        (error,) = cell.errors
        assert error.error == "NotImplementedError", f"cell {index} fails with {error.error}:\n{error.text}"
        if f"cell {index}" in expected[index]:   # an answer cell that raises itself (a dict to fill)
            assert re.search(r"^-+> +\d+ raise NotImplementedError\(\)$", error.text, re.M), error.text
            continue
        raised_in = set(re.findall(r"^Cell In\[\d+\], line \d+, in (\w+)\(", error.text, re.M))
        assert raised_in & todo, f"cell {index}: the error comes from {raised_in}, not from a function to write"
    other_stderr = [(c.index, o.text[:200]) for c in code for o in c.outputs
                    if o.mime == "application/vnd.jupyter.stderr" and not o.error]
    assert not other_stderr, f"warnings on the page: {other_stderr}"
    fails = [(c.index, line) for c in code for line in c.text.splitlines() if line.startswith("FAIL")]
    assert not fails, f"self-checks fail although no work was done in them: {fails}"
    print(f"{assignment}: {len(failing)} cells await work ({', '.join(sorted(todo))}); "
          f"{runs} runs, {seconds:.1f} s")
    _check_rendering(nb, notebook, screenshots, f"student_{assignment}")


@pytest.mark.parametrize("assignment", assignment_ids())
def test_master_notebook_runs_clean(assignment, page, jupyter_server, screenshots):
    nb, notebook = _open(page, jupyter_server, "solutions", assignment)
    seconds = notebook.run_all(RUN_TIMEOUT)
    cells = notebook.cells()
    code = [c for c in cells if c.type == "code"]
    errors = [(c.index, c.errors[0].text[-400:]) for c in code if c.errors]
    assert not errors, f"cells fail: {errors}"
    assert all(c.executed for c in code), \
        f"cells that did not run: {[c.index for c in code if not c.executed]}"
    stderr = [(c.index, o.text[:200]) for c in code for o in c.outputs
              if o.mime == "application/vnd.jupyter.stderr"]
    assert not stderr, f"the master notebook writes to stderr: {stderr}"
    checks = [i for i, c in enumerate(nb.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("check_")]
    assert checks, "the notebook has visible self-checks"
    for i in checks:
        lines = cells[i].text.splitlines()
        assert any(line.startswith("PASS ") for line in lines), f"self-check cell {i} printed no PASS"
        assert not any(line.startswith("FAIL") for line in lines), f"self-check cell {i} failed"
    print(f"{assignment}: master notebook ran in {seconds:.1f} s in JupyterLab, "
          f"{len(checks)} self-check cells passed")
    _check_rendering(nb, notebook, screenshots, f"master_{assignment}")
