"""03_optimizers: every sample submission's exact score and diagnoses."""
import pytest

from sample_grading import check_sample, grade_sample

ASSIGNMENT = "03_optimizers"
FULL = 30.0  # autograded points; 6 more are written answers graded by hand
CHECKS = ("sgd", "gradient_descent", "lr_facts", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
          "optimizer_table")

# student -> (autograded total, {check: (score, words of the expected diagnosis or None)})
EXPECTED = {
    "reference": (FULL, {}),
    "other_momentum_forms": (FULL, {}),   # the lecture's form 2 of momentum and PyTorch's Nesterov: both right
    "untouched": (0.0, {name: (0.0, None) for name in CHECKS}),
    "adam_no_bias_correction": (23.0, {"adam": (0.0, "not bias-corrected"),
                                       "adamw": (0.0, "not bias-corrected")}),
    "adam_step_count": (23.0, {"adam": (0.0, "first step is not finite"),
                               "adamw": (0.0, "t starts at 1")}),
    "epsilon_inside_sqrt": (27.03, {"adagrad": (2.5, "epsilon is inside the square root"),
                                    "rmsprop": (1.2, "epsilon is inside the square root"),
                                    "adam": (3.33, "epsilon is inside the square root")}),
    "adamw_is_adam_l2": (27.0, {"adamw": (0.0, "Adam with L2 regularization")}),
    "adamw_decay_after_step": (27.6, {"adamw": (0.6, "after the Adam step")}),
    "squared_gradient_sums": (24.0, {"adagrad": (0.0, "that is RMSProp"),
                                     "rmsprop": (0.0, "not scaled by (1 - decay_rate)")}),
    "momentum_mistakes": (24.0, {"sgd_momentum": (0.0, "a sign is flipped"),
                                 "nesterov": (0.0, "this is plain momentum")}),
    "updates_in_place": (25.0, {"sgd": (0.0, "writes into w or dw"),
                                "sgd_momentum": (0.0, "writes into w or dw")}),
    "numpy_only": (28.73, {"rmsprop": (2.4, "does not run on array_api_strict"),
                           "adam": (3.33, "does not run on array_api_strict")}),
    "half_done": (23.0, {"adamw": (0.0, None),
                         "gradient_descent": (0.0, "does not start with x0"),
                         "lr_facts": (2.5, "converges up to 2/18"),
                         "optimizer_table": (2.5, "AdaGrad's sum of squared gradients is not leaky")}),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample_scores_and_diagnoses(student):
    check_sample(ASSIGNMENT, student, *EXPECTED[student], only_diagnosis=True)


def test_numpy_only_fails_exactly_the_array_api_strict_cases():
    outcomes = grade_sample(ASSIGNMENT, "numpy_only")
    for check in ("rmsprop", "adam"):
        failed = [c for c in outcomes[check].cases if not c.passed]
        assert [c.name.endswith("on array_api_strict") for c in failed] == [True]
        assert "Expected Array" in failed[0].detail


def test_in_place_updates_fail_with_the_drivers_message():
    outcome = grade_sample(ASSIGNMENT, "updates_in_place")["sgd"]
    assert all("changed w or dw in place" in c.detail for c in outcome.cases)


def test_every_sample_is_covered():
    from autograder.course import SAMPLES
    assert {p.stem for p in (SAMPLES / ASSIGNMENT).glob("*.ipynb")} == set(EXPECTED)
