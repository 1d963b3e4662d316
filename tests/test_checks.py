"""The visible self-checks print PASS or raise a FAIL that says what to look at."""
import numpy as np
import pytest

from optimlab.checks import check_close, check_leaves_inputs, check_rel_error, check_true, check_unchanged


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


def test_unchanged_passes_on_a_copy_and_treats_nan_as_equal(capsys):
    w = np.array([1.0, np.nan, 3.0])
    check_unchanged("w is left unchanged", w, w.copy())
    assert capsys.readouterr().out == "PASS w is left unchanged\n"


def test_an_in_place_write_is_called_one_and_located():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = w.copy()
    w -= np.array([[0.0, 0.0], [0.0, 0.1]])   # what `w -= lr * dw` does to the caller's array
    with pytest.raises(AssertionError) as info:
        check_unchanged("adam leaves w unchanged", w, before, "Return a new array.")
    assert str(info.value) == ("FAIL adam leaves w unchanged: it was changed in place (1 of 4 entries; "
                               "entry [1, 1] is now 3.9, was 4). Return a new array.")


def test_an_in_place_resize_is_a_fail_too():
    with pytest.raises(AssertionError, match="shape changed in place from \\(3,\\) to \\(2,\\)"):
        check_unchanged("x", np.ones(2), np.ones(3))


def test_leaves_inputs_returns_the_result_and_names_the_argument_written(capsys):
    def sgd(w, dw, config):
        return w - config["learning_rate"] * dw, config

    def sgd_in_place(w, dw, config):
        w -= config["learning_rate"] * dw
        return w, config

    out = check_leaves_inputs("sgd", sgd, {"w": np.ones(2), "dw": np.ones(2)}, {"learning_rate": 0.5})
    assert np.array_equal(out[0], [0.5, 0.5])
    assert capsys.readouterr().out == "PASS sgd leaves w unchanged\nPASS sgd leaves dw unchanged\n"
    with pytest.raises(AssertionError) as info:
        check_leaves_inputs("sgd", sgd_in_place, {"w": np.ones(2), "dw": np.ones(2)}, {"learning_rate": 0.5})
    assert str(info.value).startswith("FAIL sgd leaves w unchanged: it was changed in place (2 of 2 entries; "
                                      "entry [0] is now 0.5, was 1). Compute a new array instead of writing into w")
