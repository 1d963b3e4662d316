"""01_losses: every sample submission's exact score and diagnoses."""
import pytest

from sample_grading import check_sample, grade_sample

ASSIGNMENT = "01_losses"
FULL = 25.0  # autograded points; 6 more are written answers graded by hand

# student -> (autograded total, {check: (score, words of the expected diagnosis or None)})
EXPECTED = {
    "reference": (FULL, {}),
    "untouched": (0.0, {name: (0.0, None) for name in (
        "svm_loss_naive", "svm_loss", "softmax_loss_naive", "softmax_loss", "loss_facts",
        "l2_reg", "l1_reg", "elastic_net_reg", "ridge_fit")}),
    "svm_counts_correct_class": (22.0, {"svm_loss": (0.0, "the sum includes j = y_i")}),
    "softmax_overflow": (23.83, {"softmax_loss_naive": (2.5, "overflows for large scores"),
                                 "softmax_loss": (3.33, "overflows for large scores")}),
    "softmax_sums": (21.66, {"softmax_loss": (0.66, "summed over the examples instead of averaged")}),
    "l2_with_half": (21.0, {"l2_reg": (0.0, "factor 1/2"),
                            "elastic_net_reg": (0.0, "2 * beta * W")}),
    "ridge_bias_free": (22.6, {"ridge_fit": (0.6, "bias weight is not penalized")}),
    "half_done": (17.14, {"softmax_loss": (0.0, None), "ridge_fit": (0.0, None),
                          "loss_facts": (2.14, "the SVM loss is C - 1 = 9")}),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample_scores_and_diagnoses(student):
    check_sample(ASSIGNMENT, student, *EXPECTED[student])


def test_half_done_facts_name_both_wrong_answers():
    facts = grade_sample(ASSIGNMENT, "half_done")["loss_facts"]
    assert len(facts.diagnoses) == 2
    assert any("largest softmax loss is infinite" in d for d in facts.diagnoses)


def test_every_sample_is_covered():
    from autograder.course import SAMPLES
    assert {p.stem for p in (SAMPLES / ASSIGNMENT).glob("*.ipynb")} == set(EXPECTED)
