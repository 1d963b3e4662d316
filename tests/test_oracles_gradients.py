"""02_gradients: the master notebook's references against independent oracles.

Oracles: functions with known derivatives (for the numeric gradient), closed forms
(the losses and their gradients at W = 0, the centered difference of x**3), the
lecture's numbers, finite differences in extended precision of loss formulas written
here independently, and PyTorch's autograd where installed.
"""
import math

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from autograder import spec as S
from autograder.reference import load_reference
from optimlab.data import get_cifar10_data
from torch_oracle import needs_torch, torch

ref = load_reference("02_gradients")
LOSSES = {"svm": ("svm_loss_naive", "svm_loss_vectorized"), "softmax": ("softmax_loss_naive", "softmax_loss_vectorized")}
ALL_LOSSES = LOSSES["svm"] + LOSSES["softmax"]


def away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


# --- the numeric gradient on functions with known derivatives -----------------------

def _quadratic(rng, n=6):
    M = rng.standard_normal((n, n))
    A, b = M @ M.T + np.eye(n), rng.standard_normal(n)
    return (lambda x: float(0.5 * x @ A @ x + b @ x)), (lambda x: A @ x + b)


KNOWN = {
    "sum(x**3)": (lambda x: float(np.sum(x ** 3)), lambda x: 3 * x ** 2),
    "sum(exp(x))": (lambda x: float(np.sum(np.exp(x))), np.exp),
    "sum(sin(x))": (lambda x: float(np.sum(np.sin(x))), np.cos),
    "log-sum-exp": (lambda x: float(logsumexp(x)), lambda x: softmax(x, axis=None)),
    "prod of two entries": (lambda x: float(x.flat[0] * x.flat[-1]),
                            lambda x: np.where(np.arange(x.size) == 0, x.flat[-1], 0).reshape(x.shape)
                            + np.where(np.arange(x.size) == x.size - 1, x.flat[0], 0).reshape(x.shape)),
}


@pytest.mark.parametrize("name", KNOWN)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_numeric_gradient_matches_known_derivatives(name, shape):
    f, grad_f = KNOWN[name]
    x = away_from_zero(np.random.default_rng(0), shape)
    x_before = x.copy()
    numeric = ref.eval_numerical_gradient(f, x)
    assert numeric.shape == shape
    assert S.rel_error(numeric, grad_f(x_before)) < 1e-7
    assert np.array_equal(x, x_before)


def test_centered_difference_is_exact_on_quadratics_and_known_on_cubics():
    rng = np.random.default_rng(1)
    f, grad_f = _quadratic(rng)
    x = rng.standard_normal(6)
    assert np.allclose(ref.eval_numerical_gradient(f, x, h=0.5), grad_f(x), rtol=1e-9, atol=1e-9)
    for h in (0.1, 0.01):  # ((x+h)**3 - (x-h)**3) / 2h = 3 x**2 + h**2 exactly
        assert np.allclose(ref.eval_numerical_gradient(KNOWN["sum(x**3)"][0], x, h=h), 3 * x ** 2 + h ** 2,
                           rtol=1e-9, atol=1e-12)


def test_numeric_gradient_restores_x_bit_for_bit():
    x = 0.1 * np.arange(1, 13, dtype=float).reshape(3, 4) + 1e-3  # values where x + h - 2h + h != x
    assert any((v + 1e-5 - 2e-5 + 1e-5) != v for v in x.ravel())
    before = x.copy()
    ref.eval_numerical_gradient(KNOWN["sum(exp(x))"][0], x)
    assert x.tobytes() == before.tobytes()


def test_error_orders_and_evaluation_counts_agree_with_the_facts():
    facts = ref.gradient_facts
    steps = np.logspace(-3, -1, 9)
    exact = math.exp(0.5)
    centered = [abs(ref.eval_numerical_gradient(lambda z: float(np.exp(z[0])), np.array([0.5]), h=h)[0] - exact)
                for h in steps]
    forward = [abs((math.exp(0.5 + h) - math.exp(0.5)) / h - exact) for h in steps]
    assert np.polyfit(np.log(steps), np.log(centered), 1)[0] == pytest.approx(facts["centered_error_order"], abs=0.05)
    assert np.polyfit(np.log(steps), np.log(forward), 1)[0] == pytest.approx(facts["forward_error_order"], abs=0.05)

    calls = []
    ref.eval_numerical_gradient(lambda w: calls.append(1) or 0.0, np.zeros((3073, 10)))
    assert len(calls) == facts["evals_centered_cifar"] == 2 * 3073 * 10
    assert facts["evals_forward_cifar"] == 3073 * 10 + 1


def test_the_lecture_worked_example():
    assert (1.25322 - 1.25347) / 0.0001 == pytest.approx(ref.gradient_facts["lecture_first_entry"], rel=1e-9)
    assert (1.25353 - 1.25347) / 0.0001 == pytest.approx(ref.gradient_facts["lecture_second_entry"], rel=1e-9)
    assert ref.gradient_facts["lecture_first_entry"] == -2.5


# --- rel_error and grad_check_sparse -------------------------------------------------

def test_rel_error_is_the_course_formula():
    rng = np.random.default_rng(2)
    for _ in range(20):
        a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
        assert ref.rel_error(a, b) == pytest.approx(S.rel_error(a, b), rel=1e-15)
    assert ref.rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert ref.rel_error(np.array([1e-10]), np.array([-1e-10])) == pytest.approx(0.02)
    assert ref.rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)
    assert type(ref.rel_error(np.ones(2), np.ones(2))) is float


def test_grad_check_sparse_measures_what_it_should():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7))
    f = KNOWN["sum(exp(x))"][0]
    before = x.copy()
    assert ref.grad_check_sparse(f, x, np.exp(x), rng=np.random.default_rng(0)) < 1e-8
    assert ref.grad_check_sparse(f, x, 2 * np.exp(x), rng=np.random.default_rng(0)) == pytest.approx(1 / 3, abs=1e-9)
    assert ref.grad_check_sparse(f, x, -np.exp(x), rng=np.random.default_rng(0)) == pytest.approx(1.0, abs=1e-9)
    assert np.array_equal(x, before)
    # one coordinate wrong by a known factor: found exactly when it is among the checked ones
    wrong = np.exp(x)
    wrong[2, 3] *= 1.5
    found = ref.grad_check_sparse(f, x, wrong, num_checks=400, rng=np.random.default_rng(0))
    assert found == pytest.approx(0.5 / 2.5, rel=1e-6)


def test_grad_check_sparse_draws_coordinates_from_the_rng_it_is_given():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 8))
    uneven = np.exp(x) * (1 + rng.permutation(np.linspace(0.01, 0.5, x.size)).reshape(x.shape))
    f = KNOWN["sum(exp(x))"][0]
    values = [ref.grad_check_sparse(f, x, uneven, num_checks=4, rng=np.random.default_rng(s)) for s in range(6)]
    again = [ref.grad_check_sparse(f, x, uneven, num_checks=4, rng=np.random.default_rng(s)) for s in range(6)]
    assert values == again
    assert len(set(values)) > 1
    assert ref.grad_check_sparse(f, x, uneven) == ref.grad_check_sparse(f, x, uneven)  # rng=None: deterministic


# --- the losses: closed forms, extended-precision finite differences, PyTorch --------

def random_problem(seed, n=7, d=6, c=4, scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, -1] = 1.0
    return scale * rng.standard_normal((d, c)), X, rng.integers(0, c, size=n)


def oracle_loss(kind, W, X, y, reg):
    """Independent loss formulas, evaluated in extended precision (np.longdouble)."""
    W, X = W.astype(np.longdouble), X.astype(np.longdouble)
    scores = X @ W
    rows = np.arange(len(y))
    if kind == "svm":
        margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
        data = (margins.sum() - len(y)) / len(y)  # the correct class's own margin is exactly 1
    else:
        top = scores.max(axis=1, keepdims=True)
        data = np.mean(np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0] - scores[rows, y])
    return data + reg * np.sum(W * W)


@pytest.mark.parametrize("name", ALL_LOSSES)
@pytest.mark.parametrize("C", [2, 3, 10])
def test_losses_and_gradients_at_zero_weights(name, C):
    rng = np.random.default_rng(C)
    X, y = rng.standard_normal((9, 5)), rng.integers(0, C, size=9)
    loss, dW = getattr(ref, name)(np.zeros((5, C)), X, y, 3.0)
    onehot = np.eye(C)[y]
    if name.startswith("svm"):  # every margin is 1 > 0: each wrong class adds x_i, the correct one loses (C-1) x_i
        assert loss == pytest.approx(C - 1)
        assert np.allclose(dW, X.T @ (1 - C * onehot) / 9)
    else:  # uniform probabilities 1/C
        assert loss == pytest.approx(math.log(C))
        assert np.allclose(dW, X.T @ (1 / C - onehot) / 9)
    assert type(loss) is float


@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("seed,reg", [(0, 0.0), (1, 0.3), (2, 5.0)])
def test_analytic_gradients_match_extended_precision_finite_differences(kind, seed, reg):
    W, X, y = random_problem(seed)
    h = 1e-7
    if kind == "svm":  # a kink within reach would make the finite difference wrong, not the gradient
        scores = X @ W
        margins = scores - scores[np.arange(len(y)), y][:, None] + 1
        margins[np.arange(len(y)), y] = np.inf
        assert np.abs(margins).min() > 10 * h * np.abs(X).max()
    numeric = np.zeros(W.shape, dtype=np.longdouble)
    for ix in np.ndindex(W.shape):
        E = np.zeros(W.shape)
        E[ix] = h
        numeric[ix] = (oracle_loss(kind, W + E, X, y, reg) - oracle_loss(kind, W - E, X, y, reg)) / (2 * h)
    for name in LOSSES[kind]:
        loss, dW = getattr(ref, name)(W, X, y, reg)
        assert loss == pytest.approx(float(oracle_loss(kind, W, X, y, reg)), rel=1e-13)
        assert np.allclose(dW, numeric.astype(float), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("kind", LOSSES)
def test_naive_and_vectorized_agree_on_cifar_sized_problems(kind):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 3073)) * 60
    W, y = 1e-4 * rng.standard_normal((3073, 10)), rng.integers(0, 10, size=60)
    naive, vectorized = (getattr(ref, name)(W, X, y, 250.0) for name in LOSSES[kind])
    assert naive[0] == pytest.approx(vectorized[0], rel=1e-12)
    assert S.rel_error(naive[1], vectorized[1]) < 1e-9
    single = getattr(ref, LOSSES[kind][1])(W.astype(np.float32), X.astype(np.float32), y, 250.0)
    assert single[0] == pytest.approx(vectorized[0], rel=1e-4)


@pytest.mark.parametrize("name", LOSSES["softmax"])
def test_softmax_is_finite_and_exact_for_huge_scores(name):
    W, X, y = random_problem(6, scale=500.0)
    scores = X @ W
    expected = np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(y)), y])
    loss, dW = getattr(ref, name)(W, X, y, 0.0)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(dW))


def test_the_notebook_tiny_example():
    X = np.array([[1.0, 2.0, -1.0, 1.0], [0.5, -1.5, 2.0, 1.0], [-2.0, 0.5, 1.0, 1.0], [1.5, 1.0, 0.5, 1.0],
                  [0.0, -1.0, -2.0, 1.0]])
    y = np.array([0, 2, 1, 1, 0])
    W = np.array([[0.2, -0.5, 0.1], [0.3, 0.4, -0.2], [-0.6, 0.1, 0.5], [0.1, 0.0, -0.1]])
    # Only example 4 violates margins (classes 0 and 2): the data gradient is x_4, -2 x_4, x_4 over 5.
    expected_svm = np.outer(X[3], [1, -2, 1]) / 5 + 0.2 * W
    for name in LOSSES["svm"]:
        loss, dW = getattr(ref, name)(W, X, y, 0.1)
        assert loss == pytest.approx((1.7 + 1.4) / 5 + 0.1 * np.sum(W * W))
        assert np.allclose(dW, expected_svm)
    for name in LOSSES["softmax"]:
        loss, dW = getattr(ref, name)(W, X, y, 0.1)
        assert loss == pytest.approx(float(oracle_loss("softmax", W, X, y, 0.1)), rel=1e-14)
        assert loss == pytest.approx(0.657040957666777, abs=1e-12)


@needs_torch
@pytest.mark.parametrize("kind", LOSSES)
@pytest.mark.parametrize("seed,n,c,reg", [(0, 7, 4, 0.0), (1, 1, 5, 0.5), (2, 12, 2, 0.01), (3, 30, 10, 2.0)])
def test_gradients_match_torch_autograd(kind, seed, n, c, reg):
    W, X, y = random_problem(seed, n=n, c=c)
    W_t = torch.tensor(W, requires_grad=True)
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    scores = X_t @ W_t
    if kind == "svm":
        correct = scores.gather(1, y_t[:, None])
        margins = torch.clamp(scores - correct + 1, min=0)
        wrong = torch.ones_like(margins).scatter_(1, y_t[:, None], 0.0)
        data = (margins * wrong).sum() / n
    else:
        data = torch.nn.functional.cross_entropy(scores, y_t)
    loss_t = data + reg * (W_t ** 2).sum()
    loss_t.backward()
    for name in LOSSES[kind]:
        loss, dW = getattr(ref, name)(W, X, y, reg)
        assert loss == pytest.approx(loss_t.item(), rel=1e-12)
        assert np.allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- minibatches and the training loop ----------------------------------------------

def test_sample_batch_pairs_rows_with_labels_and_is_uniform():
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    rng = np.random.default_rng(7)
    counts = np.zeros(20)
    for _ in range(500):
        X_batch, y_batch = ref.sample_batch(X, y, 10, rng)
        assert X_batch.shape == (10, 2) and y_batch.shape == (10,)
        assert np.array_equal(X_batch[:, 0], 2 * y_batch)
        counts += np.bincount(y_batch, minlength=20)
    assert counts.min() > 200 and counts.max() < 300  # 250 expected per row
    first = ref.sample_batch(X, y, 10, np.random.default_rng(1))
    assert np.array_equal(first[1], ref.sample_batch(X, y, 10, np.random.default_rng(1))[1])


def test_training_is_plain_gradient_descent():
    W, X, y = random_problem(8, n=15, d=5, c=3)
    reg, lr = 0.1, 0.05

    def loss_fn(W, X, y, reg):
        return ref.softmax_loss_vectorized(W, X, y, reg)

    W_expected, losses = W.copy(), []
    for _ in range(20):
        loss, dW = loss_fn(W_expected, X, y, reg)
        losses.append(loss)
        W_expected = W_expected - lr * dW
    W_out, history = ref.train_linear_classifier(loss_fn, W, X, y, reg, lr, 20)
    assert np.allclose(W_out, W_expected, rtol=1e-14) and history == pytest.approx(losses, rel=1e-14)
    assert history[-1] < history[0]

    rng, W_sgd = np.random.default_rng(9), W.copy()
    for _ in range(20):
        X_batch, y_batch = ref.sample_batch(X, y, 4, rng)
        W_sgd = W_sgd - lr * loss_fn(W_sgd, X_batch, y_batch, reg)[1]
    W_out, _ = ref.train_linear_classifier(loss_fn, W, X, y, reg, lr, 20, batch_size=4, rng=np.random.default_rng(9))
    assert np.allclose(W_out, W_sgd, rtol=1e-14)


# --- the notebook's visible gradient checks cannot fail a correct solution -----------

def _dev_problem(use_sample):
    data = get_cifar10_data(dtype=np.float32, use_sample=use_sample)
    X = data["X_dev"].astype(np.float64)
    W = 0.0001 * np.random.default_rng(0).standard_normal((X.shape[1], 10))  # the notebook's W_dev
    return W, X, data["y_dev"]


def _has_real_data():
    from optimlab.data.cifar10 import has_all_batch_files, real_data_dir
    return has_all_batch_files(real_data_dir())


@pytest.mark.slow
@pytest.mark.parametrize("use_sample", [True, pytest.param(False, marks=pytest.mark.skipif(
    not _has_real_data(), reason="the real CIFAR-10 is not downloaded"))], ids=["sample data", "real CIFAR-10"])
def test_visible_gradient_checks_pass_at_every_coordinate(use_sample):
    """The notebook checks 10 random coordinates with h = 1e-6 and asks for a relative error below 1e-4.

    A correct solution may pick any coordinates, so this must hold at all 30,730 of them:
    - SVM: no margin of W_dev is within h * |x_ik| of its kink, so every centered
      difference is exact up to rounding;
    - softmax: the truncation error of every centered difference (computed per example
      in float64, for every coordinate at once) stays below 1e-5;
    - rounding: brute-force checks with the loops versions, on the coordinates whose
      gradient is smallest (where rounding matters most), stay below 1e-4 / 3.
    """
    W, X, y = _dev_problem(use_sample)
    h, n = 1e-6, len(y)
    rows = np.arange(n)
    scores = X @ W
    margins = scores - scores[rows, y][:, None] + 1
    margins[rows, y] = np.inf
    reach = h * np.abs(X).max()
    assert np.abs(margins).min() > reach, "a kink is within reach of h = 1e-6"

    worst = 0.0
    base = logsumexp(scores, axis=1) - scores[rows, y]
    _, dW = ref.softmax_loss_vectorized(W, X, y, 0.0)
    for j in range(W.shape[1]):
        for start in range(0, X.shape[1], 512):
            ks = np.arange(start, min(start + 512, X.shape[1]))
            shift = h * X[:, ks].T[:, :, None] * (np.arange(W.shape[1]) == j)
            up, down = scores + shift, scores - shift
            diff = ((logsumexp(up, axis=2) - up[:, rows, y]) - base) - ((logsumexp(down, axis=2) - down[:, rows, y]) - base)
            numeric = diff.sum(axis=1) / n / (2 * h)
            worst = max(worst, float(np.max(np.abs(numeric - dW[ks, j]) / np.maximum(1e-8, np.abs(numeric) + np.abs(dW[ks, j])))))
    assert worst < 1e-5

    for name in ("svm_loss_naive", "softmax_loss_naive"):
        for reg in (0.0, 500.0):
            loss_fn = getattr(ref, name)
            _, grad = loss_fn(W, X, y, reg)
            smallest = np.argsort(np.abs(grad).ravel())[:8]
            for flat in smallest:
                ix = np.unravel_index(flat, W.shape)
                W_plus, W_minus = W.copy(), W.copy()
                W_plus[ix] += h
                W_minus[ix] -= h
                numeric = (loss_fn(W_plus, X, y, reg)[0] - loss_fn(W_minus, X, y, reg)[0]) / (2 * h)
                assert ref.rel_error(numeric, grad[ix]) < 1e-4 / 3, (name, reg, ix)
