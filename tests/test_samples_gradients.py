"""02_gradients: every sample submission's exact score and diagnoses."""
import contextlib
import io

import pytest

from sample_grading import autograded_total, grade_sample

ASSIGNMENT = "02_gradients"
FULL = 31.0  # autograded points; 6 more are written answers graded by hand
CHECKS = ("eval_numerical_gradient", "rel_error", "grad_check_sparse", "gradient_facts", "svm_loss_naive",
          "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized", "sample_batch",
          "train_linear_classifier")
X_NOT_RESTORED = "x is left changed after the call"

# student -> (autograded total, {check: (score, words of the expected diagnosis or None)})
EXPECTED = {
    "reference": (FULL, {}),
    "untouched": (0.0, {name: (0.0, None) for name in CHECKS}),
    "forward_differences": (26.66, {"eval_numerical_gradient": (0.0, "forward differences (f(x + h) - f(x)) / h"),
                                    "grad_check_sparse": (2.66, "forward differences are used")}),
    "x_not_restored": (24.0, {"eval_numerical_gradient": (0.0, X_NOT_RESTORED),
                              "grad_check_sparse": (0.0, X_NOT_RESTORED)}),
    "gradient_not_averaged": (25.84, {"svm_loss_vectorized": (0.42, "not divided by N"),
                                      "softmax_loss_vectorized": (0.42, "not divided by N")}),
    "reg_gradient_without_2": (24.14, {"svm_loss_naive": (0.57, "is 2 * reg * W, not reg * W"),
                                       "softmax_loss_naive": (0.57, "is 2 * reg * W, not reg * W")}),
    "softmax_sign_and_overflow": (27.42, {"softmax_loss_naive": (3.42, "not finite for scores of magnitude 1e3"),
                                          "softmax_loss_vectorized": (0.0, "the gradient has the wrong sign")}),
    "cs231n_habits": (26.23, {"grad_check_sparse": (0.0, "nothing is returned"),
                              "sample_batch": (1.66, "global random state"),
                              "train_linear_classifier": (2.57, "same seed end with different weights")}),
    "sgd_in_place": (28.42, {"train_linear_classifier": (0.42, "changed in place (W -= ...)")}),
    "half_done": (19.5, {"grad_check_sparse": (0.0, None), "softmax_loss_vectorized": (0.0, None),
                         "train_linear_classifier": (0.0, None),
                         "gradient_facts": (1.5, "twice per weight: 2 * 3073 * 10 = 61,460")}),
}


def _grade(student):
    with contextlib.redirect_stdout(io.StringIO()):  # the CS231n-style check prints every coordinate
        return grade_sample(ASSIGNMENT, student)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample_scores_and_diagnoses(student):
    total, failures = EXPECTED[student]
    outcomes = _grade(student)
    assert set(outcomes) == set(CHECKS)
    assert autograded_total(outcomes) == pytest.approx(total, abs=1e-9)
    for check, outcome in outcomes.items():
        if check not in failures:
            assert outcome.score == outcome.points, outcome.feedback()
            assert outcome.diagnoses == []
            continue
        score, words = failures[check]
        assert outcome.score == pytest.approx(score, abs=1e-9), outcome.feedback()
        if words:
            assert any(words in d for d in outcome.diagnoses), outcome.feedback()
            assert len(outcome.diagnoses) == (2 if (student, check) == ("half_done", "gradient_facts") else 1)
        else:
            assert outcome.diagnoses == [], outcome.feedback()


def test_half_done_facts_name_both_wrong_answers():
    facts = _grade("half_done")["gradient_facts"]
    assert len(facts.diagnoses) == 2
    assert any("the orders are swapped" in d for d in facts.diagnoses)


def test_forward_differences_are_named_where_the_probe_sees_them():
    check = _grade("forward_differences")["grad_check_sparse"]
    failed = {c.name: c.detail for c in check.cases if not c.passed}
    assert "centered differences with the h passed in (h = 1e-3)" in failed
    assert "never at x - h" in failed["centered differences with the h passed in (h = 1e-3)"]


def test_every_sample_is_covered():
    from autograder.course import SAMPLES
    assert {p.stem for p in (SAMPLES / ASSIGNMENT).glob("*.ipynb")} == set(EXPECTED)
