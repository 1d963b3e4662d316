"""The grader side of a hidden test: score the kernel's results against the reference.

Runs in the grading process, never in the student's kernel. For every case of
a check it rebuilds the inputs, runs the reference from the master notebook,
compares with what the student's function returned, and, for failed cases,
looks for the known mistake that explains the output.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from autograder import spec as S
from autograder.reference import load_reference
from autograder.specs import load_spec


@dataclass
class CaseResult:
    name: str
    passed: bool
    detail: str = ""  # why it failed, in words a student can act on


@dataclass
class Outcome:
    """The score of one check and the feedback that explains it."""

    check: str
    points: float
    score: float
    cases: list[CaseResult]
    diagnoses: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    def feedback(self) -> str:
        """The text the student reads under the test cell."""
        lines = [f"{self.check}: {self.passed} of {len(self.cases)} hidden test cases passed "
                 f"({self.score:g} of {self.points:g} points)."]
        failed = [c for c in self.cases if not c.passed]
        if len(failed) > 2 and len({c.detail for c in failed}) == 1:  # one cause: say it once
            # Case names contain commas ("N=8, C=10"): one per line, never joined.
            lines.append(f"  FAILED {len(failed)} cases, all the same way: {failed[0].detail}")
            lines += [f"    - {c.name}" for c in failed]
        else:
            lines += [f"  FAILED {c.name}: {c.detail}" for c in failed]
        lines += [f"  Likely mistake: {d}" for d in self.diagnoses]
        return "\n".join(lines)


def _quietly(fn, *args):
    """Runs reference code with floating-point warnings silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def _reference_object(assignment: str, check: S.Check):
    reference = load_reference(assignment)
    if not hasattr(reference, check.name):
        raise LookupError(f"The master notebook of {assignment} defines no {check.name!r}.")
    return getattr(reference, check.name)


def _judge(check: S.Check, expected, record: dict | None, args_digest: str) -> str | None:
    """The failure of one case, or None when it passed."""
    if record is None:
        return "did not run (the test stopped before this case)"
    if record.get("digest") != args_digest:
        return "the test inputs were altered inside the notebook, so this case cannot be scored"
    if "error" in record:
        return f"raised {record['error']}"
    if record.get("mutated"):
        return "changed its input arrays in place; compute new arrays instead"
    err, why = S.compare(expected, S.decode(record.get("output")), check.rtol)
    if why:
        return f"returned the wrong kind of result: {why}"
    if not err <= check.rtol:
        return f"relative error {err:.2e} (tolerance {check.rtol:.0e})"
    return None


def _all_finite(value) -> bool:
    """True when every number in a (nested) value is finite."""
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return all(_all_finite(v) for v in value)
    if isinstance(value, str) or value is None:
        return True
    return bool(np.all(np.isfinite(np.asarray(value, dtype=float))))


def _matches(a, b, rtol: float) -> bool:
    err, why = S.compare(a, b, rtol)
    return why is None and err <= rtol


def _diagnose(check: S.Check, failed: list[tuple[tuple, dict, object]]) -> list[str]:
    """Messages of the known mistakes that explain at least one failed case.

    failed: (arguments, the student's record, the reference's output) per failed case.
    """
    found = []
    for mistake in check.mistakes:
        for args, record, expected in failed:
            if mistake.when is not None and mistake.when(record):
                found.append(mistake.message)
                break
            if mistake.variant is not None and "output" in record:
                try:
                    wrong = _quietly(check.run, mistake.variant, S.snapshot(args))
                except Exception:  # noqa: BLE001 - a variant may crash where the student's did not
                    continue
                # A variant that is right on this case, or NaN/inf from two different
                # bugs, is a coincidence, not evidence.
                if (_matches(wrong, S.decode(record["output"]), check.rtol) and _all_finite(wrong)
                        and not _matches(wrong, expected, check.rtol)):
                    found.append(mistake.message)
                    break
    return found


def score_results(assignment: str, check_name: str, results: dict | None, points: float) -> Outcome:
    """Scores the kernel's `results` for one check: partial credit per case.

    results: the payload published by `autograder.harness.submit`, or None
        when the test cell never produced one.
    """
    check = load_spec(assignment)[check_name]
    reference = _reference_object(assignment, check)
    records = {}
    if results and results.get("check") == check_name:
        records = {r.get("case"): r for r in results.get("records", []) if isinstance(r, dict)}
    cases, failed = [], []
    for case in check.cases:
        args = S.build_args(assignment, check, case)
        expected = _quietly(check.run, reference, S.snapshot(args))
        record = records.get(case.name)
        why = _judge(check, expected, record, S.digest(args))
        cases.append(CaseResult(case.name, why is None, why or ""))
        if why is not None and record is not None:
            failed.append((args, record, expected))
    passed = sum(c.passed for c in cases)
    score = math.floor(100 * points * passed / len(cases)) / 100
    return Outcome(check_name, points, score, cases, _diagnose(check, failed))
