"""The kernel side of a hidden test.

A hidden test cell in a master notebook is one call:

    from autograder.harness import submit
    submit("01_losses", "svm_loss", svm_loss)

`submit` rebuilds the check's seeded cases, runs the student's function on
each, and publishes the raw results as one display output of MIME type
`RESULTS_MIME`. Nothing here knows an expected value: the grader scores the
results outside the kernel (`autograder.scoring`), where student code cannot
reach, so patching NumPy, the asserts or this module gains nothing.
"""
from __future__ import annotations

import importlib
import traceback
import warnings
from typing import Any, Callable

import numpy as np

from autograder import spec as S
from autograder.specs import load_spec

RESULTS_MIME = "application/vnd.optimlab.results+json"


def _to_backend(value: Any, xp) -> Any:
    """NumPy arrays in a (nested) value converted to the Array-API namespace `xp`."""
    if isinstance(value, np.ndarray):
        return xp.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_backend(v, xp) for v in value)
    if isinstance(value, dict):
        return {k: _to_backend(v, xp) for k, v in value.items()}
    return value


def _inputs_changed(before: Any, after: Any) -> bool:
    """True when an array inside the arguments was modified in place."""
    if isinstance(before, np.ndarray):
        after = S.to_numpy(after)
        return not (isinstance(after, np.ndarray) and after.shape == before.shape
                    and np.array_equal(after, before, equal_nan=True))
    if isinstance(before, (list, tuple)):
        return len(before) != len(after) or any(_inputs_changed(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return any(_inputs_changed(v, after.get(k)) for k, v in before.items())
    return False


def _error_line(exc: BaseException) -> str:
    """`Type: message` and the student's line that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename.startswith("<") or "ipykernel" in f.filename]
    where = f" (line {own[-1].lineno}: {own[-1].line})" if own and own[-1].line else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + message if message else ''}{where}"[:400]


def run_case(assignment: str, check: S.Check, case: S.Case, obj: Any) -> dict:
    """Runs the student's `obj` on one case; the record the grader scores."""
    args = S.build_args(assignment, check, case)
    record = {"case": case.name, "digest": S.digest(args)}
    if _grader_code(obj):
        record["error"] = "the answer is the grader's own code, not yours"
        return record
    before = S.snapshot(args)
    try:
        call_args = args if case.backend is None else _to_backend(args, importlib.import_module(case.backend))
        # Overflow is judged by the value returned; a warning on stderr would
        # only clutter the feedback.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            output = check.run(obj, call_args)
        record["output"] = S.encode(output)
    except Exception as exc:  # noqa: BLE001 - any student error is a result
        record["error"] = _error_line(exc)
        return record
    record["mutated"] = _inputs_changed(before, call_args)
    return record


def _grader_code(obj: Any) -> bool:
    """True for a function of the grading machinery itself, handed in as the student's answer.

    (The known mistakes in autograder.specs are wrong answers, and may be handed in.)
    """
    module = str(getattr(obj, "__module__", "") or "")
    return module.split(".")[0] == "autograder" and not module.startswith("autograder.specs")


def collect(assignment: str, name: str, obj: Any, on_record: Callable[[dict], None] | None = None) -> dict:
    """All case records of one check; `on_record(results)` is called after each case."""
    check = load_spec(assignment)[name]
    results = {"assignment": assignment, "check": name, "records": []}
    for case in check.cases:
        results["records"].append(run_case(assignment, check, case, obj))
        if on_record is not None:
            on_record(results)
    return results


def submit(assignment: str, name: str, obj: Any) -> None:
    """Publishes the results of check `name` for the student's `obj`.

    The output is updated after every case, so a case that never returns (the
    cell's time limit stops it) leaves the earlier cases' results scored.
    """
    from IPython.display import display

    def bundle(results: dict) -> dict:
        summary = f"{name}: {len(results['records'])} hidden test cases ran; the grader scores them."
        return {RESULTS_MIME: results, "text/plain": summary}

    handle = display(bundle({"assignment": assignment, "check": name, "records": []}), raw=True, display_id=True)
    collect(assignment, name, obj, on_record=lambda results: handle.update(bundle(results), raw=True))
