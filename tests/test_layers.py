"""optimlab.layers: every backward pass against numeric gradients and torch.autograd, on any backend.

The numeric gradient is written here, not imported: the library has none
(students write theirs in 02_gradients). It uses the fourth-order centered
stencil, accurate to about 1e-10 on these small float64 problems.
"""
import math

import numpy as np
import pytest

from optimlab.layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                             softmax_loss)
from numeric import numeric_gradient, rel_error
from torch_oracle import needs_torch, torch


def away_from_zero(rng, shape):
    """Values of either sign with |x| in [0.1, 1]: no numeric step crosses ReLU's kink."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 1.0, size=shape)


@pytest.mark.parametrize("x_shape", [(4, 5), (3, 2, 3)])
def test_affine_forward_and_backward(x_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    D = math.prod(x_shape[1:])
    w, b = rng.standard_normal((D, 3)), rng.standard_normal(3)
    out, cache = affine_forward(x, w, b)
    assert out.shape == (x_shape[0], 3)
    np.testing.assert_allclose(out, x.reshape(x_shape[0], D) @ w + b, rtol=1e-12)

    dout = rng.standard_normal(out.shape)
    dx, dw, db = affine_backward(dout, cache)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    assert rel_error(dx, numeric_gradient(lambda v: np.sum(affine_forward(v, w, b)[0] * dout), x)) < 1e-9
    assert rel_error(dw, numeric_gradient(lambda v: np.sum(affine_forward(x, v, b)[0] * dout), w)) < 1e-9
    assert rel_error(db, numeric_gradient(lambda v: np.sum(affine_forward(x, w, v)[0] * dout), b)) < 1e-9

    no_dx, same_dw, same_db = affine_backward(dout, cache, input_grad=False)
    assert no_dx is None
    np.testing.assert_array_equal(same_dw, dw)
    np.testing.assert_array_equal(same_db, db)


def test_relu_forward_and_backward():
    rng = np.random.default_rng(1)
    x = away_from_zero(rng, (5, 6))
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    dout = rng.standard_normal(x.shape)
    dx = relu_backward(dout, cache)
    assert dx.shape == x.shape
    assert rel_error(dx, numeric_gradient(lambda v: np.sum(relu_forward(v)[0] * dout), x)) < 1e-9
    np.testing.assert_array_equal(dx, np.where(x > 0, dout, 0.0))


def test_relu_does_not_modify_its_input():
    x = np.array([[-1.0, 0.0, 2.0]])
    relu_backward(np.ones_like(x), relu_forward(x)[1])
    np.testing.assert_array_equal(x, [[-1.0, 0.0, 2.0]])


def test_softmax_loss_value_and_gradient():
    rng = np.random.default_rng(2)
    scores, y = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    loss, dscores = softmax_loss(scores, y)
    assert type(loss) is float
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-log_probs[np.arange(6), y].mean(), rel=1e-12)
    assert dscores.shape == scores.shape
    assert rel_error(dscores, numeric_gradient(lambda s: softmax_loss(s, y)[0], scores)) < 1e-8


@pytest.mark.parametrize("C", [2, 10, 100])
def test_softmax_loss_at_initialization_is_log_c(C):
    loss, dscores = softmax_loss(np.zeros((3, C)), np.arange(3) % C)
    assert loss == pytest.approx(math.log(C), rel=1e-12)
    np.testing.assert_allclose(dscores.sum(axis=1), 0.0, atol=1e-15)


@pytest.mark.parametrize("magnitude", [1e3, 1e5])
def test_softmax_loss_is_finite_for_large_scores(magnitude):
    scores = np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]]) * magnitude
    loss, dscores = softmax_loss(scores, np.array([1, 0]))
    assert math.isfinite(loss) and np.all(np.isfinite(dscores))
    # each true class scores `magnitude` below the best class; the other terms vanish
    assert loss == pytest.approx(magnitude, rel=1e-12)
    np.testing.assert_allclose(dscores, [[0.5, -0.5, 0.0], [-0.5, 0.5, 0.0]], atol=1e-12)


def test_float32_in_float32_out():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    w, b = rng.standard_normal((5, 3)).astype(np.float32), np.zeros(3, np.float32)
    out, cache = affine_forward(x, w, b)
    assert all(g.dtype == np.float32 for g in affine_backward(out, cache))
    assert relu_backward(out, relu_forward(out)[1]).dtype == np.float32
    assert softmax_loss(out, np.array([0, 1, 2, 0]))[1].dtype == np.float32


def _run_every_layer(x, w, b, y, dout, dhidden):
    """Every forward and backward of the module, on arrays of any backend."""
    hidden, affine_cache = affine_forward(x, w, b)
    relu_out, relu_cache = relu_forward(hidden)
    loss, dscores = softmax_loss(relu_out, y)
    return {"affine": hidden, "relu": relu_out, "loss": loss, "dscores": dscores,
            "affine_backward": affine_backward(dout, affine_cache),
            "relu_backward": relu_backward(dhidden, relu_cache)}


def test_layers_run_unchanged_on_array_api_strict():
    xps = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(4)
    arrays = dict(x=rng.standard_normal((6, 2, 4)), w=rng.standard_normal((8, 5)), b=rng.standard_normal(5),
                  y=rng.integers(0, 5, size=6), dout=rng.standard_normal((6, 5)),
                  dhidden=rng.standard_normal((6, 5)))
    expected = _run_every_layer(**arrays)
    got = _run_every_layer(**{k: xps.asarray(v) for k, v in arrays.items()})
    assert got["loss"] == pytest.approx(expected["loss"], rel=1e-12)
    for name in ("affine", "relu", "dscores", "relu_backward"):
        assert type(got[name]).__module__.startswith("array_api_strict"), name
        np.testing.assert_allclose(np.asarray(got[name]), expected[name], rtol=1e-12, atol=1e-15)
    for g, e in zip(got["affine_backward"], expected["affine_backward"]):
        assert type(g).__module__.startswith("array_api_strict")
        np.testing.assert_allclose(np.asarray(g), e, rtol=1e-12, atol=1e-15)


@needs_torch
def test_affine_and_relu_backward_match_torch_autograd():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((7, 6)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    x[0, :3] = 0.0  # exact zeros: ReLU's gradient there is 0 in both
    dout = rng.standard_normal((7, 4))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    t_hidden = tx @ tw + tb
    t_hidden.retain_grad()
    t_out = torch.relu(t_hidden)
    t_out.backward(torch.tensor(dout))

    hidden, affine_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(hidden)
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12)
    dhidden = relu_backward(dout, relu_cache)
    np.testing.assert_allclose(dhidden, t_hidden.grad.numpy(), rtol=1e-12, atol=1e-15)
    for ours, theirs in zip(affine_backward(dhidden, affine_cache), (tx, tw, tb)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)

    zeros = np.array([[0.0, -0.0, 1.0]])
    t_zeros = torch.tensor(zeros, requires_grad=True)
    torch.relu(t_zeros).sum().backward()
    np.testing.assert_array_equal(relu_backward(np.ones_like(zeros), relu_forward(zeros)[1]),
                                  t_zeros.grad.numpy())


@needs_torch
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_loss_matches_torch_cross_entropy(scale):
    rng = np.random.default_rng(6)
    scores, y = scale * rng.standard_normal((8, 5)), rng.integers(0, 5, size=8)
    t_scores = torch.tensor(scores, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_scores, torch.tensor(y))
    t_loss.backward()
    loss, dscores = softmax_loss(scores, y)
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, t_scores.grad.numpy(), rtol=1e-10, atol=1e-15)
