"""05_dropout: every sample submission's exact score and diagnoses."""
import pytest

from sample_grading import check_sample, grade_sample

ASSIGNMENT = "05_dropout"
FULL = 12.0  # autograded points; 6 more are written answers graded by hand
CHECKS = ("dropout_forward", "dropout_backward", "dropout_facts")

# student -> (autograded total, {check: (score, words of the expected diagnosis or None)})
EXPECTED = {
    "reference": (FULL, {}),
    "untouched": (0.0, {name: (0.0, None) for name in CHECKS}),
    # CS231n's convention: the backward pass is right for its own forward pass, so it keeps its points
    "p_is_keep_probability": (9.0, {"dropout_forward": (2.0, "p is used as the keep probability")}),
    # the original paper's dropout: both halves of it are named
    "vanilla_dropout": (7.5, {"dropout_forward": (0.5, "not divided by 1 - p")}),
    "fresh_mask_in_backward": (8.66, {"dropout_backward": (0.66, "the backward pass draws a new mask")}),
    "drops_in_test_mode": (10.5, {"dropout_forward": (3.5, "entries are dropped in test mode too")}),
    "numpy_global_rng": (8.33, {"dropout_forward": (2.0, "not drawn from the rng argument"),
                                 "dropout_backward": (3.33, None)}),
    "in_place": (5.66, {"dropout_forward": (2.0, "writes into x"),
                        "dropout_backward": (0.66, "writes into dout")}),
    "half_done": (6.8, {"dropout_backward": (0.0, None),
                        "dropout_facts": (1.8, "keep probability is 1 - 0.2 = 0.8")}),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_sample_scores_and_diagnoses(student):
    check_sample(ASSIGNMENT, student, *EXPECTED[student])


def test_vanilla_dropout_is_named_for_both_of_its_halves():
    diagnoses = grade_sample(ASSIGNMENT, "vanilla_dropout")["dropout_forward"].diagnoses
    assert len(diagnoses) == 2
    assert any("not divided by 1 - p" in d for d in diagnoses)
    assert any("test mode scales x by 1 - p" in d for d in diagnoses)


def test_numpy_global_rng_is_named_for_each_of_its_three_mistakes():
    outcomes = grade_sample(ASSIGNMENT, "numpy_global_rng")
    forward = outcomes["dropout_forward"].diagnoses
    assert len(forward) == 3
    for words in ("not drawn from the rng argument", "float32 x comes back as float64",
                  "does not run on array_api_strict"):
        assert any(words in d for d in forward), forward
    # the backward pass is the reference: it fails only where its forward pass cannot run, and is not blamed
    backward = outcomes["dropout_backward"]
    failed = [c for c in backward.cases if not c.passed]
    assert [c.name.endswith("on array_api_strict") for c in failed] == [True]
    assert "your dropout_forward, whose cache dropout_backward receives, raised" in failed[0].detail


def test_failures_say_what_was_observed():
    forward = grade_sample(ASSIGNMENT, "p_is_keep_probability")["dropout_forward"]
    first = next(c for c in forward.cases if not c.passed)
    assert first.name == "p = 0.2, train mode, x of shape (200, 100)"
    assert "of the entries (a fraction p), expected 1 - p = 80% (+-1.70%, 6 binomial standard deviations)" \
        in first.detail
    assert "the kept entries of out are 5 x to 5 x" in first.detail


def test_every_sample_is_covered():
    from autograder.course import SAMPLES
    assert {p.stem for p in (SAMPLES / ASSIGNMENT).glob("*.ipynb")} == set(EXPECTED)
