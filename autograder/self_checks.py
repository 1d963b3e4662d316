"""Which known mistakes the visible self-checks catch, and where.

A student sees only the self-check cell under each function (`check_<name>` in
the master notebook); the hidden tests see far more. For every known mistake
of `autograder/specs/<assignment>.py` that has a `variant` (the wrong function
a student writes), this module runs the master notebook's self-check cells
with the reference function replaced by that variant and records where the
mistake shows:

- "own": the self-check of the function where the mistake is made fails
  (a cell checking several functions, one `with self_check("name"):` block
  each, is the own check of every one of them);
- "elsewhere": only a later self-check fails (the student is sent to the
  wrong cell);
- "hidden only": no self-check fails; the hidden tests are the first to see it.

A mistake marked `hidden_only` in its spec is one the visible checks are meant
not to see (so that they do not become the answer key); it is listed with
that reason. The notebook runs once, in fast mode and in this process; each
self-check then runs against the namespace as it was just before that cell.

    python -m autograder.self_checks [ASSIGNMENT ...]    prints the coverage tables
"""
from __future__ import annotations

import ast
import os
import sys
import types
from dataclasses import dataclass
from functools import lru_cache

import nbformat

from autograder.course import assignment_ids, master_notebook
from autograder.specs import load_spec

CHECK_PREFIX = "check_"


@dataclass(frozen=True)
class Coverage:
    """Where one known mistake shows in the visible self-checks."""

    check: str                   # the graded function (or answer) the mistake is made in
    mistake: str                 # the mistake's message, as the feedback gives it
    where: str                   # "own", "elsewhere" or "hidden only"
    failing: tuple[str, ...]     # the first self-check that failed, by the function it checks
    hidden_only: str | None = None  # why the visible checks must not see it, if so
    says: str = ""               # what that self-check printed when it failed (its error's message)


@dataclass
class _NotebookRun:
    """A master notebook run once: its self-check cells and the namespace before each."""

    shell: object
    cells: list[tuple[str, str, dict]]  # (function checked, cell source, namespace before the cell)
    checks: list[tuple[str, ...]]       # the functions each of those cells checks

    def fails(self, index: int, name: str, variant) -> str | None:
        """What self-check cell `index` says when it fails with `name` replaced by `variant`; None if it passes."""
        from IPython.utils.capture import capture_output

        _, source, namespace = self.cells[index]
        user_ns = self.shell.user_ns
        user_ns.clear()
        user_ns.update(_fresh(namespace))
        user_ns[name] = _named(variant, name)
        paired = getattr(variant, "paired_forward", None)
        if paired is not None:  # a wrong backward pass reads the cache of the forward pass written with it
            user_ns[name.replace("backward", "forward")] = paired
        with capture_output():
            result = self.shell.run_cell(source, store_history=False, silent=True)
        error = result.error_in_exec or result.error_before_exec
        if error is None:
            return None
        return str(error).strip() or type(error).__name__


def _fresh(namespace: dict) -> dict:
    """`namespace` with its arrays copied (also those in dicts), so that a variant writing into its
    inputs in one run cannot change what the next runs see."""
    import numpy as np

    def fresh(value):
        if isinstance(value, np.ndarray):
            return value.copy()
        if type(value) is dict:
            return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in value.items()}
        return value

    return {key: fresh(value) for key, value in namespace.items()}


def _named(variant, name: str):
    """`variant` under the name a student's function has (a check may look it up by `fn.__name__`)."""
    if not isinstance(variant, types.FunctionType):
        return variant
    renamed = types.FunctionType(variant.__code__, variant.__globals__, name, variant.__defaults__,
                                 variant.__closure__)
    renamed.__kwdefaults__ = variant.__kwdefaults__
    renamed.__dict__.update(variant.__dict__)
    return renamed


def _checked_functions(grade_name: str, source: str) -> tuple[str, ...]:
    """The functions a self-check cell checks: those of its `with self_check("name"):` blocks, else its grade id's."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return (grade_name,)
    names = [node.args[0].value for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "self_check"
             and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)]
    return tuple(dict.fromkeys(names)) or (grade_name,)


def _is_self_check(cell) -> bool:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    return cell.cell_type == "code" and grade_id.startswith(CHECK_PREFIX)


def _is_hidden_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


@lru_cache(maxsize=None)
def run_notebook(assignment: str) -> _NotebookRun:
    """Runs the master notebook of `assignment` in fast mode, keeping the namespace before every self-check.

    Hidden-test cells are skipped (they only publish results for the grader).
    """
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    os.environ["OPTIMLAB_FAST"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)  # one shell serves every assignment: start from an empty namespace
    nb = nbformat.read(master_notebook(assignment), as_version=4)
    last_check = max((i for i, c in enumerate(nb.cells) if _is_self_check(c)), default=-1)
    cells, checks = [], []
    for cell in nb.cells[:last_check + 1]:  # what follows the last self-check cannot matter to one
        if cell.cell_type != "code" or _is_hidden_test(cell):
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%matplotlib"))
        if _is_self_check(cell):
            name = cell.metadata["nbgrader"]["grade_id"][len(CHECK_PREFIX):]
            cells.append((name, source, dict(shell.user_ns)))
            checks.append(_checked_functions(name, source))
        with capture_output():
            result = shell.run_cell(source, store_history=False, silent=True)
        if not result.success:
            raise RuntimeError(f"cell of {assignment} failed in the reference run: {result.error_in_exec!r}\n{source}")
        _close_figures()
    return _NotebookRun(shell, cells, checks)


def _close_figures() -> None:
    """Figures of the reference run are never shown; closing them keeps memory flat."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def checked_functions(assignment: str) -> list[str]:
    """The functions of `assignment` that have a self-check, in the notebook's order."""
    return list(dict.fromkeys(name for names in run_notebook(assignment).checks for name in names))


def own_check_says(assignment: str, name: str, variant) -> str | None:
    """What the self-check of function `name` says when `name` is `variant`: None when it passes.

    (The later self-checks already ran with the reference in the notebook run.)
    """
    run = run_notebook(assignment)
    return run.fails(_positions(run)[name], name, variant)


def _positions(run: _NotebookRun) -> dict[str, int]:
    """The index of the first self-check cell of every function checked."""
    position = {}
    for i, names in enumerate(run.checks):
        for name in names:
            position.setdefault(name, i)
    return position


def coverage(assignment: str) -> list[Coverage]:
    """Where every known mistake with a variant of `assignment` shows, one row each."""
    run = run_notebook(assignment)
    position = _positions(run)
    rows = []
    for check in load_spec(assignment).values():
        for mistake in check.mistakes:
            if mistake.variant is None:
                continue
            rows.append(_locate(run, position, check.name, mistake.variant, mistake.message,
                                _hidden_only(check, mistake)))
    return rows


def _hidden_only(check, mistake) -> str | None:
    """Why the visible checks must not see `mistake`, or None when they should."""
    if check.is_value:
        return "an autograded answer: a visible check would give the answer away"
    return mistake.hidden_only


def _locate(run: _NotebookRun, position: dict, name: str, variant, message: str,
            hidden_only: str | None) -> Coverage:
    """The self-check that first fails with `variant` in place of `name`: its own, or a later one."""
    own = position.get(name)
    says = run.fails(own, name, variant) if own is not None else None
    if says is not None:
        return Coverage(name, message, "own", (name,), hidden_only, says)
    start = own + 1 if own is not None else 0
    for index in range(start, len(run.cells)):
        says = run.fails(index, name, variant)
        if says is not None:
            return Coverage(name, message, "elsewhere", (run.cells[index][0],), hidden_only, says)
    return Coverage(name, message, "hidden only", (), hidden_only)


def summary(rows: list[Coverage]) -> dict[str, int]:
    """Counts of a coverage table: mistakes meant to be visible, and where they show."""
    visible = [r for r in rows if not r.hidden_only]
    return {
        "mistakes": len(rows),
        "meant for the hidden tests only": len(rows) - len(visible),
        "visible-catchable": len(visible),
        "caught by their own check": sum(r.where == "own" for r in visible),
        "caught elsewhere": sum(r.where == "elsewhere" for r in visible),
        "not caught by a self-check": sum(r.where == "hidden only" for r in visible),
    }


def format_table(assignment: str, rows: list[Coverage]) -> str:
    """A Markdown table of `rows`, with the summary under it."""
    lines = [f"### {assignment}", "", "| function | mistake | caught by | self-checks that fail | what it says |",
             "|---|---|---|---|---|"]
    for r in rows:
        caught = f"hidden only (by design: {r.hidden_only})" if r.hidden_only else r.where
        says = _cell_text(r.says.splitlines()[0] if r.says else "-", 110)
        lines.append(f"| {r.check} | {_cell_text(r.mistake, 90)} | {caught} | {', '.join(r.failing) or '-'} | {says} |")
    counts = summary(rows)
    lines += ["", "; ".join(f"{k}: {v}" for k, v in counts.items())]
    return "\n".join(lines)


def _cell_text(text: str, width: int) -> str:
    """`text` cut to `width` characters, safe inside a Markdown table cell."""
    text = text if len(text) <= width else text[:width - 3] + "..."
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    for assignment in (argv if argv else assignment_ids()):
        print(format_table(assignment, coverage(assignment)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
