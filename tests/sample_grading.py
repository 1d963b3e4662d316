"""Scores the sample submissions of an assignment without a kernel.

Each sample's definitions are executed into a module (as the grading kernel
would), every check is run through the harness and scored exactly as the
pipeline scores it. The kernel pipeline itself is exercised in test_grading.py.
"""
from __future__ import annotations

from functools import lru_cache

import nbformat
import pytest

from autograder.course import SAMPLES, master_notebook
from autograder.harness import collect
from autograder.preprocessors import SUBMIT_CALL
from autograder.reference import module_from_notebook
from autograder.scoring import Outcome, score_results


@lru_cache(maxsize=None)
def test_cell_points(assignment: str) -> dict[str, float]:
    """Points of every hidden-test cell of the master notebook, by check name."""
    points = {}
    for cell in nbformat.read(master_notebook(assignment), as_version=4).cells:
        call = SUBMIT_CALL.search(cell.source) if cell.cell_type == "code" else None
        if call and cell.metadata.get("nbgrader", {}).get("grade"):
            points[call.group(2)] = float(cell.metadata["nbgrader"]["points"])
    return points


def grade_sample(assignment: str, student: str) -> dict[str, Outcome]:
    """The outcome of every check for one sample submission."""
    path = SAMPLES / assignment / f"{student}.ipynb"
    module = module_from_notebook(path, f"sample_{assignment}_{student}")
    outcomes = {}
    for check, points in test_cell_points(assignment).items():
        obj = getattr(module, check, None)
        results = collect(assignment, check, obj) if obj is not None else None
        outcomes[check] = score_results(assignment, check, results, points)
    return outcomes


def autograded_total(outcomes: dict[str, Outcome]) -> float:
    return round(sum(o.score for o in outcomes.values()), 2)


def check_sample(assignment: str, student: str, total: float, failures: dict, only_diagnosis: bool = False):
    """Asserts a sample's autograded total and, check by check, its score and diagnosis.

    failures: {check: (score, words of its diagnosis, or None for no diagnosis)}; every
        other check must have full marks and no diagnosis. With `only_diagnosis`, a failed
        check must have exactly the one diagnosis.
    Returns the outcomes, for further assertions.
    """
    outcomes = grade_sample(assignment, student)
    assert set(outcomes) == set(test_cell_points(assignment))
    assert autograded_total(outcomes) == pytest.approx(total, abs=1e-9)
    for check, outcome in outcomes.items():
        score, words = failures.get(check, (outcome.points, None))
        assert outcome.score == pytest.approx(score, abs=1e-9), outcome.feedback()
        if words is None:
            assert outcome.diagnoses == [], outcome.feedback()
        elif only_diagnosis:
            assert len(outcome.diagnoses) == 1 and words in outcome.diagnoses[0], outcome.feedback()
        else:
            assert any(words in d for d in outcome.diagnoses), outcome.feedback()
    return outcomes
