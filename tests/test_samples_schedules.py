"""04_schedules: every sample submission's exact score and diagnoses."""
import pytest

from sample_grading import check_sample, grade_sample

ASSIGNMENT = "04_schedules"
FULL = 13.0  # autograded points; 6 more are written answers graded by hand
CHECKS = ("step_decay", "cosine_decay", "linear_decay", "inverse_sqrt", "linear_warmup")

# student -> (autograded total, {check: (score, words of the expected diagnosis or None)})
EXPECTED = {
    "reference": (FULL, {}),
    "untouched": (0.0, {name: (0.0, None) for name in CHECKS}),
    "milestone_off_by_one": (11.2, {"step_decay": (1.2, "at t = m the rate is already decayed")}),
    "decay_subtracted": (10.9, {"step_decay": (0.9, "the decay is subtracted")}),
    "cosine_degrees": (10.37, {"cosine_decay": (0.37, "the angle is in degrees")}),
    "not_held_after_T": (10.12, {"cosine_decay": (1.12, "rises again along the cosine"),
                                 "linear_decay": (1.0, "the rate becomes negative")}),
    "inverse_sqrt_divides_by_zero": (11.66, {"inverse_sqrt": (0.66, "divides by sqrt(0) = 0")}),
    "warmup_from_zero": (10.66, {"linear_warmup": (0.66, "the ramp starts at 0")}),
    "warmup_restarts_schedule": (11.33, {"linear_warmup": (1.33, "restarted after the warmup")}),
    "numpy_only": (12.28, {"cosine_decay": (2.62, "does not run on array_api_strict"),
                           "inverse_sqrt": (1.66, "does not run on array_api_strict")}),
    "half_done": (8.0, {"linear_decay": (0.0, None), "linear_warmup": (0.0, None)}),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample_scores_and_diagnoses(student):
    check_sample(ASSIGNMENT, student, *EXPECTED[student], only_diagnosis=True)


def test_numpy_only_fails_exactly_the_array_api_strict_cases():
    outcomes = grade_sample(ASSIGNMENT, "numpy_only")
    for check in ("cosine_decay", "inverse_sqrt"):
        failed = [c for c in outcomes[check].cases if not c.passed]
        assert [c.name.endswith("on array_api_strict") for c in failed] == [True]
        assert "not an array of the library of t" in failed[0].detail


def test_off_by_one_fails_at_the_milestones_only():
    failed = [c.name for c in grade_sample(ASSIGNMENT, "milestone_off_by_one")["step_decay"].cases if not c.passed]
    assert "t = 29, just before the first milestone" not in failed
    assert "t = 30, exactly at the first milestone (a Python int)" in failed
    assert "t = 500, past every milestone" not in failed


def test_every_sample_is_covered():
    from autograder.course import SAMPLES
    assert {p.stem for p in (SAMPLES / ASSIGNMENT).glob("*.ipynb")} == set(EXPECTED)
