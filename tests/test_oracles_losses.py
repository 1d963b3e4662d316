"""01_losses: the master notebook's references against independent oracles.

Oracles: the lecture's worked numbers, closed forms, scipy's logsumexp, an
augmented least-squares solve, and PyTorch (`torch.nn.functional`,
`torch.autograd`) where installed.
"""
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from autograder.reference import load_reference
from torch_oracle import needs_torch, torch

ref = load_reference("01_losses")
LECTURE = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_Y = np.array([0, 1, 2])
SVM_LOSSES = ("svm_loss_naive", "svm_loss")
SOFTMAX_LOSSES = ("softmax_loss_naive", "softmax_loss")
rng = np.random.default_rng(2024)


@pytest.mark.parametrize("name", SVM_LOSSES)
def test_svm_reproduces_the_lecture_example(name):
    fn = getattr(ref, name)
    per_image = [fn(LECTURE[i:i + 1], LECTURE_Y[i:i + 1]) for i in range(3)]
    assert per_image == pytest.approx([2.9, 0.0, 12.9], abs=1e-12)
    assert fn(LECTURE, LECTURE_Y) == pytest.approx(15.8 / 3)
    assert round(fn(LECTURE, LECTURE_Y), 2) == 5.27
    assert type(fn(LECTURE, LECTURE_Y)) is float


@pytest.mark.parametrize("name", SOFTMAX_LOSSES)
def test_softmax_reproduces_the_lecture_example(name):
    fn = getattr(ref, name)
    assert round(fn(LECTURE[:1], LECTURE_Y[:1]), 2) == 2.04
    assert type(fn(LECTURE, LECTURE_Y)) is float


@pytest.mark.parametrize("C", [2, 3, 10, 100])
def test_losses_at_initialization_are_c_minus_1_and_log_c(C):
    scores, y = np.zeros((4, C)), np.arange(4) % C
    for name in SVM_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(C - 1)
    for name in SOFTMAX_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(math.log(C))


def test_the_lecture_comparison_of_svm_and_softmax():
    y0 = np.zeros(1, dtype=int)
    for s in ([10, -2, 3], [10, 9, 9], [10, -100, -100]):
        s = np.array([s], dtype=float)
        assert ref.svm_loss(s, y0) == 0.0
        exact = math.log1p(math.exp(s[0, 1] - 10) + math.exp(s[0, 2] - 10))
        assert exact > 0.0
        # [10, -100, -100]: the exact loss, 3.4e-48, is below float64's resolution next to 1
        assert ref.softmax_loss(s, y0) == pytest.approx(exact, rel=1e-9, abs=1e-15)
    assert ref.softmax_loss(np.array([[10.0, 9, 9]]), y0) > ref.softmax_loss(np.array([[10.5, 9, 9]]), y0) > 0
    car = LECTURE[1:2]
    assert ref.svm_loss(car, LECTURE_Y[1:2]) == ref.svm_loss(2 * car, LECTURE_Y[1:2]) == 0.0


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e5])
def test_softmax_matches_logsumexp_and_stays_finite(scale):
    scores = scale * rng.standard_normal((20, 7))
    y = rng.integers(0, 7, size=20)
    expected = np.mean(logsumexp(scores, axis=1) - scores[np.arange(20), y])
    for name in SOFTMAX_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(expected, rel=1e-12)


def test_svm_two_classes_closed_form():
    scores = rng.standard_normal((30, 2))
    y = rng.integers(0, 2, size=30)
    gap = scores[np.arange(30), y] - scores[np.arange(30), 1 - y]
    expected = np.mean(np.maximum(0.0, 1.0 - gap))
    for name in SVM_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(expected, rel=1e-12)


def test_regularizers_closed_forms():
    W = rng.standard_normal((6, 4))
    W[0, 0] = 0.0
    R, dR = ref.l2_reg(W)
    assert R == pytest.approx(np.linalg.norm(W) ** 2) and np.allclose(dR, 2 * W)
    R, dR = ref.l1_reg(W)
    assert R == pytest.approx(np.abs(W).sum()) and np.array_equal(dR, np.sign(W)) and dR[0, 0] == 0
    R, dR = ref.elastic_net_reg(W, 0.3)
    assert R == pytest.approx(0.3 * np.linalg.norm(W) ** 2 + np.abs(W).sum())
    assert np.allclose(dR, 0.6 * W + np.sign(W))
    # the lecture's preference example
    w1, w2 = np.array([1.0, 0, 0, 0]), np.full(4, 0.25)
    assert (ref.l2_reg(w1)[0], ref.l2_reg(w2)[0]) == (1.0, 0.25)
    assert ref.l1_reg(w1)[0] == ref.l1_reg(w2)[0] == 1.0


@pytest.mark.parametrize("lam,expected", [
    (0.0, [32.0, 39.4, 61.7, 88.9, 113.6]),
    (0.02, [36.0, 40.6, 54.3, 71.1, 86.4]),
])
def test_ridge_reproduces_the_lecture_table(lam, expected):
    lat = np.array([42.0, 39.0, 30.0, 19.0, 9.0])
    X = np.column_stack([lat, np.ones(5)])
    w = ref.ridge_fit(X[:3], np.array([33.0, 38.0, 62.0]), lam)
    assert np.round(X @ w, 1).tolist() == expected


@pytest.mark.parametrize("n,d,lam", [(30, 5, 1.0), (10, 20, 0.5), (50, 3, 100.0)])
def test_ridge_matches_augmented_least_squares(n, d, lam):
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    augmented = np.vstack([X, math.sqrt(lam) * np.eye(d)])
    expected = np.linalg.lstsq(augmented, np.concatenate([y, np.zeros(d)]), rcond=None)[0]
    assert np.allclose(ref.ridge_fit(X, y, lam), expected, rtol=1e-9, atol=1e-12)


def test_loss_facts_agree_with_the_references():
    facts = ref.loss_facts
    assert facts["svm_at_init"] == ref.svm_loss(np.zeros((1, 10)), np.zeros(1, dtype=int))
    assert facts["softmax_at_init"] == pytest.approx(ref.softmax_loss(np.zeros((1, 10)), np.zeros(1, dtype=int)))
    assert (facts["svm_min"], facts["svm_max"]) == (0.0, math.inf)
    assert (facts["softmax_min"], facts["softmax_max"]) == (0.0, math.inf)
    assert facts["w_unique_when_zero_loss"] is False


# --- PyTorch -----------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("n,c,scale", [(16, 10, 1.0), (1, 5, 3.0), (8, 2, 1.0), (12, 6, 1e3)])
def test_losses_match_torch(n, c, scale):
    scores = scale * rng.standard_normal((n, c))
    y = rng.integers(0, c, size=n)
    F = torch.nn.functional
    s_t, y_t = torch.tensor(scores, dtype=torch.float64), torch.tensor(y)
    ce = F.cross_entropy(s_t, y_t).item()
    # torch divides each example's hinge sum by C; the lecture does not.
    hinge = c * F.multi_margin_loss(s_t, y_t, margin=1.0).item()
    for name in SOFTMAX_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(ce, rel=1e-12)
    for name in SVM_LOSSES:
        assert getattr(ref, name)(scores, y) == pytest.approx(hinge, rel=1e-12)


@needs_torch
def test_regularizer_gradients_match_autograd():
    W = rng.standard_normal((7, 3))
    for fn, torch_fn in [
        (ref.l2_reg, lambda w: (w ** 2).sum()),
        (ref.l1_reg, lambda w: w.abs().sum()),
        (lambda W: ref.elastic_net_reg(W, 0.7), lambda w: (0.7 * w ** 2 + w.abs()).sum()),
    ]:
        w_t = torch.tensor(W, requires_grad=True)
        value = torch_fn(w_t)
        value.backward()
        R, dR = fn(W)
        assert R == pytest.approx(value.item(), rel=1e-12)
        assert np.allclose(dR, w_t.grad.numpy(), rtol=1e-12)
