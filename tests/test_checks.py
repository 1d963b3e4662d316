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
