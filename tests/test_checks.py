"""The visible self-checks print PASS or raise a FAIL that says what to look at."""
import numpy as np
import pytest

from optimlab.checks import check_close, check_rel_error, check_true


def test_pass_prints_both_numbers(capsys):
    check_close("SVM loss", 2.9000000001, 2.9, tol=0.05)
    assert capsys.readouterr().out == "PASS SVM loss: yours 2.9, expected 2.9\n"


@pytest.mark.parametrize("call,words", [
    (lambda: check_close("loss", 3.0, 2.9, tol=0.05, hint="Check the margin."), "FAIL loss: yours 3, expected 2.9 (tolerance 0.05). Check the margin."),
    (lambda: check_close("loss", None, 2.9), "got None. Did you forget a return statement?"),
    (lambda: check_close("dW", np.ones(3), np.ones((3, 1))), "expected shape (3, 1), got shape (3,)"),
    (lambda: check_rel_error("grad", [1.0, 2.0], [1.0, 2.1]), "FAIL grad: relative error 2.44e-02 > 1e-07"),
    (lambda: check_true("finite", False, "Subtract the max."), "FAIL finite. Subtract the max."),
])
def test_failures_say_what_is_wrong(call, words):
    with pytest.raises(AssertionError) as info:
        call()
    assert words in str(info.value)


def test_rel_error_pass(capsys):
    check_rel_error("grad", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert capsys.readouterr().out.startswith("PASS grad: relative error 2.")


def test_a_fail_never_shows_two_identical_numbers():
    """Values that differ by more than the tolerance are printed with enough digits to differ."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        expected = rng.uniform(-2, 2, size=rng.integers(1, 5))
        got = expected + rng.choice([-1, 1], expected.shape) * rng.uniform(2e-6, 1e-5, expected.shape)
        with pytest.raises(AssertionError) as info:
            check_close("step", got, expected)
        message = str(info.value)
        yours = message.split("yours ")[1].split(", expected")[0]
        theirs = message.split("expected ")[1].split(";")[0]
        assert yours != theirs, message
        worst = message.split("worst entry ")[1]
        assert worst.split("yours ")[1].split(",")[0] != worst.split("expected ")[1].split(" ")[0], message


def test_a_fail_names_the_worst_entry():
    got = np.array([[1.0, 1.0], [1.0, 0.5]])
    with pytest.raises(AssertionError) as info:
        check_close("dW", got, np.ones((2, 2)), tol=1e-3)
    assert "worst entry [1, 1]: yours 0.5, expected 1 (tolerance 0.001)" in str(info.value)
    with pytest.raises(AssertionError) as info:
        check_rel_error("grad", got, np.ones((2, 2)))
    assert "relative error 3.33e-01 > 1e-07; worst entry [1, 1]: yours 0.5, expected 1" in str(info.value)
