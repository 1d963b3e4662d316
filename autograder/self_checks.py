"""Which known mistakes the visible self-checks catch, and where.

A student sees only the self-check cell under each function (`check_<name>` in
the master notebook); the hidden tests see far more. For every known mistake
of `autograder/specs/<assignment>.py` that has a `variant` (the wrong function
a student writes), this module runs the master notebook's self-check cells
with the reference function replaced by that variant and records where the
mistake shows:

- "own": the self-check of the function where the mistake is made fails;
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

import os
import sys
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


@dataclass
class _NotebookRun:
    """A master notebook run once: its self-check cells and the namespace before each."""

    shell: object
    cells: list[tuple[str, str, dict]]  # (function checked, cell source, namespace before the cell)

    def fails(self, index: int, name: str, variant) -> bool:
        """Whether self-check cell `index` fails when `name` is `variant`."""
        from IPython.utils.capture import capture_output

        _, source, namespace = self.cells[index]
        user_ns = self.shell.user_ns
        user_ns.clear()
        user_ns.update(namespace)
        user_ns[name] = variant
        with capture_output():
            result = self.shell.run_cell(source, store_history=False, silent=True)
        return result.error_in_exec is not None or result.error_before_exec is not None


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
    cells = []
    for cell in nb.cells[:last_check + 1]:  # what follows the last self-check cannot matter to one
        if cell.cell_type != "code" or _is_hidden_test(cell):
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%matplotlib"))
        if _is_self_check(cell):
            name = cell.metadata["nbgrader"]["grade_id"][len(CHECK_PREFIX):]
            cells.append((name, source, dict(shell.user_ns)))
        with capture_output():
            result = shell.run_cell(source, store_history=False, silent=True)
        if not result.success:
            raise RuntimeError(f"cell of {assignment} failed in the reference run: {result.error_in_exec!r}\n{source}")
        _close_figures()
    return _NotebookRun(shell, cells)


def _close_figures() -> None:
    """Figures of the reference run are never shown; closing them keeps memory flat."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def coverage(assignment: str) -> list[Coverage]:
    """Where every known mistake with a variant of `assignment` shows, one row each."""
    run = run_notebook(assignment)
    position = {name: i for i, (name, _, _) in enumerate(run.cells)}
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
    if own is not None and run.fails(own, name, variant):
        return Coverage(name, message, "own", (name,), hidden_only)
    start = own + 1 if own is not None else 0
    for index in range(start, len(run.cells)):
        if run.fails(index, name, variant):
            return Coverage(name, message, "elsewhere", (run.cells[index][0],), hidden_only)
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
    lines = [f"### {assignment}", "", "| function | mistake | caught by | self-checks that fail |",
             "|---|---|---|---|"]
    for r in rows:
        caught = f"hidden only (by design: {r.hidden_only})" if r.hidden_only else r.where
        message = r.mistake if len(r.mistake) <= 90 else r.mistake[:87] + "..."
        lines.append(f"| {r.check} | {message} | {caught} | {', '.join(r.failing) or '-'} |")
    counts = summary(rows)
    lines += ["", "; ".join(f"{k}: {v}" for k, v in counts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    for assignment in (argv if argv else assignment_ids()):
        print(format_table(assignment, coverage(assignment)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
