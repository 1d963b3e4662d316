"""Hidden-test scoring, without a kernel: harness results scored against the reference.

Every known mistake of every check must be recognised from its own output,
and the reference must earn full marks: this is what makes the cases of a
spec good enough to tell right from wrong.
"""
import numpy as np
import pytest

from autograder import harness
from autograder import spec as S
from autograder.reference import load_reference
from autograder.scoring import score_results
from autograder.course import assignment_ids
from autograder.specs import load_spec

CHECKS = [(a, name) for a in assignment_ids() for name in load_spec(a)]
MISTAKES = [(a, name, m) for a, name in CHECKS for m in load_spec(a)[name].mistakes if m.variant]


def _score(assignment, name, obj, points=4.0):
    return score_results(assignment, name, harness.collect(assignment, name, obj), points)


@pytest.mark.parametrize("assignment,name", CHECKS)
def test_reference_earns_full_marks(assignment, name):
    outcome = _score(assignment, name, getattr(load_reference(assignment), name))
    assert outcome.score == 4.0, outcome.feedback()
    assert outcome.diagnoses == []


@pytest.mark.parametrize("assignment,name,mistake", MISTAKES, ids=lambda x: getattr(x, "__name__", None))
def test_every_known_mistake_loses_points_and_is_named(assignment, name, mistake):
    outcome = _score(assignment, name, mistake.variant)
    assert outcome.score < 4.0, f"no case tells {mistake.variant.__name__} from the reference"
    assert mistake.message in outcome.diagnoses


@pytest.mark.parametrize("assignment,name", CHECKS)
def test_an_unimplemented_function_scores_zero(assignment, name):
    def not_done(*args):
        raise NotImplementedError()

    obj = not_done
    if load_spec(assignment)[name].is_value:
        obj = {}
    outcome = _score(assignment, name, obj)
    assert outcome.score == 0
    assert all(not c.passed for c in outcome.cases)


def test_no_results_score_zero_and_say_why():
    outcome = score_results("01_losses", "svm_loss", None, 3.0)
    assert outcome.score == 0
    assert "did not run" in outcome.cases[0].detail


def test_altered_inputs_are_not_scored():
    results = harness.collect("01_losses", "svm_loss", load_reference("01_losses").svm_loss)
    results["records"][1]["digest"] = "0" * 16
    outcome = score_results("01_losses", "svm_loss", results, 6.0)
    assert outcome.score == 5.0
    assert "altered" in outcome.cases[1].detail


def test_changing_inputs_in_place_fails_the_case():
    reference = load_reference("01_losses").softmax_loss

    def shifts_in_place(scores, y):
        scores -= scores.max(axis=1, keepdims=True)
        return reference(scores, y)

    outcome = _score("01_losses", "softmax_loss", shifts_in_place)
    assert outcome.score == 0
    assert "in place" in outcome.cases[0].detail


def test_wrong_result_structure_is_explained():
    outcome = _score("01_losses", "l2_reg", lambda W: float(np.sum(W * W)))
    assert outcome.score == 0
    assert "wrong kind of result" in outcome.cases[0].detail


def test_partial_credit_counts_independent_cases():
    reference = load_reference("01_losses").svm_loss

    def wrong_for_single_examples(scores, y):
        return reference(scores, y) + (1.0 if len(y) == 1 else 0.0)

    outcome = _score("01_losses", "svm_loss", wrong_for_single_examples, points=6.0)
    assert outcome.passed == len(outcome.cases) - 1
    assert outcome.score == pytest.approx(6.0 * (len(outcome.cases) - 1) / len(outcome.cases), abs=0.01)


def test_numpy_scalars_and_python_floats_both_pass():
    reference = load_reference("01_losses").softmax_loss
    as_numpy = _score("01_losses", "softmax_loss", lambda s, y: np.float64(reference(s, y)))
    as_array = _score("01_losses", "softmax_loss", lambda s, y: np.asarray(reference(s, y)))
    assert as_numpy.score == as_array.score == 4.0


def test_overflow_is_diagnosed_from_a_non_finite_result():
    def overflowing(scores, y):
        probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        return float(-np.log(probs[np.arange(len(y)), y]).mean())

    outcome = _score("01_losses", "softmax_loss", overflowing, points=6.0)
    assert outcome.passed == 5
    assert any("overflows" in d for d in outcome.diagnoses)
    assert "magnitude 1e3" in [c.name for c in outcome.cases if not c.passed][0]


def test_backend_cases_hand_array_api_arrays_to_the_student():
    pytest.importorskip("array_api_strict")
    from autograder.spec import Case, Check

    seen = []

    def student(a, pair):
        seen.append({type(a).__module__.split(".")[0], type(pair[1]).__module__.split(".")[0]})
        return a * 2

    check = Check("double", (Case("strict", lambda rng: (np.ones(3), (1.0, np.zeros(2))),
                                  backend="array_api_strict"),))
    record = harness.run_case("any", check, check.cases[0], student)
    assert seen == [{"array_api_strict"}]
    assert np.array_equal(S.decode(record["output"]), [2.0, 2.0, 2.0])
    assert record["mutated"] is False


def test_handing_in_the_graders_own_function_scores_nothing():
    from autograder.spec import rel_error
    outcome = _score("01_losses", "svm_loss", rel_error)
    assert outcome.score == 0
    assert "the grader's own code" in outcome.cases[0].detail
