"""02_gradients: the hidden tests of the randomized functions are not flaky.

`grad_check_sparse`, `sample_batch` and minibatch training draw random numbers, so
their hidden tests are probes of behaviour rather than comparisons of values (see
`autograder/specs/gradients.py`). Here every case of those checks, and of the
numeric-gradient checks they build on, is rebuilt from 50 different seeds (new
inputs, new generators), and:

- the reference, and correct solutions written differently from it (other ways of
  drawing coordinates and rows, copies instead of in-place nudges, NumPy scalars,
  an extra evaluation of f, sampling without replacement), pass every case;
- every known wrong variant fails, on every seed, exactly the cases it fails on the
  hidden tests' own seeds: zero flakes in either direction.
"""
import contextlib
import io

import numpy as np
import pytest

from autograder import spec as S
from autograder.reference import load_reference
from autograder.specs import load_spec

ASSIGNMENT = "02_gradients"
SEEDS = range(50)
ref = load_reference(ASSIGNMENT)
spec = load_spec(ASSIGNMENT)


# --- correct solutions that differ from the reference --------------------------------

def numgrad_on_copies(f, x, h=1e-5):
    grad = np.empty(x.shape)
    for i in range(x.size):
        x_plus, x_minus = x.copy(), x.copy()
        x_plus.flat[i] += h
        x_minus.flat[i] -= h
        grad.flat[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return grad


def numgrad_nditer(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        oldval = x[ix]
        x[ix] = oldval + h
        fxph = f(x)
        x[ix] = oldval - h
        fxmh = f(x)
        x[ix] = oldval
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


def gradcheck_flat_choice(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    errors = []
    for flat in rng.choice(x.size, size=num_checks):
        ix = np.unravel_index(flat, x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        numeric = (fxph - fxmh) / (2 * h)
        errors.append(abs(numeric - analytic_grad[ix]) / max(1e-8, abs(numeric) + abs(analytic_grad[ix])))
    return max(errors)


def gradcheck_on_copies_with_printing(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    print("loss at x:", f(x))  # an unperturbed evaluation is allowed
    worst = np.float64(0.0)
    for _ in range(num_checks):
        ix = tuple(rng.integers(0, n) for n in x.shape)
        x_plus, x_minus = x.copy(), x.copy()
        x_plus[ix] += h
        x_minus[ix] -= h
        numeric = (f(x_plus) - f(x_minus)) / (2 * h)
        error = ref.rel_error(numeric, analytic_grad[ix])
        print(f"numeric {numeric:.6f} analytic {analytic_grad[ix]:.6f} relative error {error:.1e}")
        worst = max(worst, error)
    return worst


def batch_without_replacement(X, y, batch_size, rng):
    rows = rng.choice(X.shape[0], size=batch_size, replace=False)
    return X[rows, :], y[rows]


def batch_by_permutation(X, y, batch_size, rng):
    rows = rng.permutation(len(y))[:batch_size]
    return np.take(X, rows, axis=0), np.take(y, rows)


def train_with_while_loop(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
    history = np.zeros(num_iters)
    t = 0
    while t < num_iters:
        X_batch, y_batch = (X, y) if batch_size is None else batch_by_permutation(X, y, batch_size, rng)
        history[t], grad = loss_fn(W, X_batch, y_batch, reg)
        W = W + (-learning_rate) * grad
        t += 1
    return W, history


ALTERNATIVES = {
    "eval_numerical_gradient": [numgrad_on_copies, numgrad_nditer],
    "rel_error": [lambda a, b: np.max(np.abs(np.subtract(a, b)) / np.maximum(1e-8, np.abs(a) + np.abs(b)))],
    "grad_check_sparse": [gradcheck_flat_choice, gradcheck_on_copies_with_printing],
    "sample_batch": [batch_without_replacement, batch_by_permutation],
    "train_linear_classifier": [train_with_while_loop],
}
CHECKS = list(ALTERNATIVES)


def passes(check, fn, args) -> bool:
    """Whether `fn` passes one case built from `args`, judged as the grader judges it."""
    expected = check.run(getattr(ref, check.name), S.snapshot(args))
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            got = check.run(fn, S.snapshot(args))
    except Exception:  # noqa: BLE001 - a probe's AssertionError or the function's own error
        return False
    err, why = S.compare(expected, S.decode(S.encode(got)), check.rtol)
    return why is None and err <= check.rtol


def failed_cases(check, fn, rng_for) -> frozenset:
    return frozenset(case.name for case in check.cases if not passes(check, fn, case.make(rng_for(case))))


def canonical(check):
    return lambda case: S.case_rng(ASSIGNMENT, check.name, case.name)


def seeded(seed):
    return lambda case: np.random.default_rng(seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_correct_solutions_pass_every_case_for_50_seeds(name):
    check = spec[name]
    for fn in [getattr(ref, name), *ALTERNATIVES[name]]:
        flakes = {seed: failed for seed in SEEDS if (failed := failed_cases(check, fn, seeded(seed)))}
        assert not flakes, f"{getattr(fn, '__name__', fn)} failed on some seeds: {flakes}"


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKS)
def test_every_known_mistake_fails_the_same_cases_for_50_seeds(name):
    check = spec[name]
    variants = [m.variant for m in check.mistakes if m.variant is not None]
    assert variants
    for variant in variants:
        expected = failed_cases(check, variant, canonical(check))
        assert expected, f"{variant.__name__} passes the hidden tests"
        flakes = {seed: failed for seed in SEEDS if (failed := failed_cases(check, variant, seeded(seed))) != expected}
        assert not flakes, f"{variant.__name__}: hidden tests fail {sorted(expected)}, other seeds differ: {flakes}"


def test_the_probes_pass_for_the_reference_and_a_different_solution():
    """A quick version of the above on the hidden tests' own seeds (runs in the default suite)."""
    for name in CHECKS:
        check = spec[name]
        for fn in [getattr(ref, name), *ALTERNATIVES[name]]:
            assert failed_cases(check, fn, canonical(check)) == frozenset(), (name, fn)
