"""optimlab.models: the capstone's two-layer net is right, trains with the shared loop, on any backend.

Oracles: numeric gradients (written here), a torch nn.Sequential with the same
weights, and the CS231n sanity checks (loss log C at initialization, 50
examples overfitted to 100%). The dropout layers are test-local stand-ins for
the students' `dropout_forward` / `dropout_backward` of 05_dropout.
"""
import math

import numpy as np
import pytest
from array_api_compat import array_namespace

from optimlab.data import get_cifar10_data
from optimlab.models import two_layer_net
from optimlab.train import accuracy, train
from numeric import numeric_gradient, rel_error
from torch_oracle import needs_torch, torch

N, D, H, C = 7, 6, 5, 4  # the small problem of the gradient checks
P_DROP = 0.5


@pytest.fixture(scope="module")
def cifar():
    """The bundled sample without the bias column (the net has its own biases)."""
    data = get_cifar10_data(use_sample=True)
    return {k: data[k][:, :-1] if k.startswith("X_") else data[k] for k in ("X_train", "y_train", "X_val", "y_val")}


def small_problem(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def fixed_mask_dropout(mask, p):
    """Inverted dropout whose mask never changes, so the loss is a deterministic function;
    records the mode and rng of every forward call."""
    calls = []

    def forward(x, p_, mode, rng):
        calls.append((mode, rng))
        assert p_ == p
        if mode == "test":
            return x, None
        scale = mask / (1 - p)
        return x * scale, scale

    def backward(dout, cache):
        return dout * cache

    return (forward, backward), calls


def inverted_dropout_forward(x, p, mode, rng):
    """Inverted dropout with a fresh mask from rng, on any backend."""
    if mode == "test":
        return x, None
    xp = array_namespace(x)
    scale = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * scale, scale


def inverted_dropout_backward(dout, cache):
    return dout * cache


RANDOM_DROPOUT = (inverted_dropout_forward, inverted_dropout_backward)


def adam(w, dw, config=None):
    """Adam on any backend (03_optimizers' defaults)."""
    config = {} if config is None else config
    xp = array_namespace(w)
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("m", xp.zeros_like(w))
    config.setdefault("v", xp.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    config["m"] = 0.9 * config["m"] + 0.1 * dw
    config["v"] = 0.999 * config["v"] + 0.001 * (dw * dw)
    m_hat = config["m"] / (1 - 0.9 ** config["t"])
    v_hat = config["v"] / (1 - 0.999 ** config["t"])
    return w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + 1e-8), config


def test_parameters_are_drawn_from_the_given_rng():
    _, params = two_layer_net(300, 40, 10, rng=np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"W1": (300, 40), "b1": (40,), "W2": (40, 10), "b2": (10,)}
    assert all(v.dtype == np.float64 for v in params.values())
    assert params["W1"].std() == pytest.approx(1e-3, rel=0.05)
    assert not params["b1"].any() and not params["b2"].any()
    _, same = two_layer_net(300, 40, 10, rng=np.random.default_rng(0))
    _, other = two_layer_net(300, 40, 10, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(params["W1"], same["W1"])
    assert not np.array_equal(params["W1"], other["W1"])

    _, he = two_layer_net(300, 40, 10, weight_scale="he", rng=np.random.default_rng(0), dtype=np.float32)
    assert he["W1"].std() == pytest.approx(math.sqrt(2 / 300), rel=0.05)
    assert he["W2"].std() == pytest.approx(math.sqrt(2 / 40), rel=0.1)
    assert all(v.dtype == np.float32 for v in he.values())


def test_dropout_probability_without_a_dropout_layer_is_refused():
    with pytest.raises(ValueError, match="dropout"):
        two_layer_net(D, H, C, p=0.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="weight_scale"):
        two_layer_net(D, H, C, weight_scale="xavier", rng=np.random.default_rng(0))


def test_loss_at_initialization_is_about_log_c(cifar):
    X, y = cifar["X_train"], cifar["y_train"]
    model, params = two_layer_net(X.shape[1], 50, 10, rng=np.random.default_rng(0))
    loss, _ = model.loss_and_grads(params, X, y, np.random.default_rng(1))
    assert type(loss) is float
    assert loss == pytest.approx(math.log(10), abs=0.01)
    reg_model, _ = two_layer_net(X.shape[1], 50, 10, reg=10.0, rng=np.random.default_rng(0))
    penalty = 10.0 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert reg_model.loss_and_grads(params, X, y, None)[0] == pytest.approx(loss + penalty, rel=1e-12)


def test_predict_returns_the_argmax_of_the_scores():
    X, _ = small_problem()
    model, params = two_layer_net(D, H, C, weight_scale=1.0, rng=np.random.default_rng(2))
    params["b1"][:], params["b2"][:] = 0.1, np.arange(C) * 0.1
    scores = np.maximum(X @ params["W1"] + params["b1"], 0) @ params["W2"] + params["b2"]
    labels = model.predict(params, X)
    assert labels.shape == (N,)
    np.testing.assert_array_equal(labels, scores.argmax(axis=1))


def _check_gradients(model, params, X, y, rng=None):
    loss, grads = model.loss_and_grads(params, X, y, rng)
    assert set(grads) == set(params)
    for name in params:
        assert grads[name].shape == params[name].shape, name
        numeric = numeric_gradient(lambda _: model.loss_and_grads(params, X, y, rng)[0], params[name], h=1e-5)
        assert rel_error(grads[name], numeric) < 1e-7, name
    return loss, grads


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_gradients_match_numeric_gradients(reg):
    X, y = small_problem()
    model, params = two_layer_net(D, H, C, reg=reg, weight_scale=0.7, rng=np.random.default_rng(3))
    params["b1"][:], params["b2"][:] = 0.2, -0.1  # nonzero biases, so their gradients are exercised
    _check_gradients(model, params, X, y)


def test_gradients_with_dropout_match_numeric_gradients():
    X, y = small_problem()
    mask = np.random.default_rng(4).random((N, H)) >= P_DROP
    (forward, backward), calls = fixed_mask_dropout(mask, P_DROP)
    model, params = two_layer_net(D, H, C, reg=0.1, weight_scale=0.7, dropout=(forward, backward),
                                  p=P_DROP, rng=np.random.default_rng(3))
    train_rng = np.random.default_rng(5)
    loss, _ = _check_gradients(model, params, X, y, train_rng)

    assert {mode for mode, _ in calls} == {"train"} and all(rng is train_rng for _, rng in calls)
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0) * mask / (1 - P_DROP)
    scores = hidden @ params["W2"] + params["b2"]
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    penalty = 0.1 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert loss == pytest.approx(-log_probs[np.arange(N), y].mean() + penalty, rel=1e-12)

    calls.clear()
    plain, _ = two_layer_net(D, H, C, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(model.predict(params, X), plain.predict(params, X))
    assert all(mode == "test" for mode, _ in calls), "predict never drops units"


@needs_torch
@pytest.mark.parametrize("reg, with_dropout", [(0.0, False), (0.25, False), (0.25, True)])
def test_matches_a_torch_sequential_with_the_same_weights(reg, with_dropout):
    X, y = small_problem(6)
    mask = np.random.default_rng(7).random((N, H)) >= P_DROP
    dropout, _ = fixed_mask_dropout(mask, P_DROP)
    model, params = two_layer_net(D, H, C, reg=reg, weight_scale=0.7, rng=np.random.default_rng(8),
                                  dropout=dropout if with_dropout else None, p=P_DROP if with_dropout else 0.0)
    params["b1"][:], params["b2"][:] = 0.2, -0.1
    loss, grads = model.loss_and_grads(params, X, y, None)

    class FixedDropout(torch.nn.Module):
        def forward(self, x):
            return x * torch.tensor(mask / (1 - P_DROP))

    first, second = torch.nn.Linear(D, H, dtype=torch.float64), torch.nn.Linear(H, C, dtype=torch.float64)
    with torch.no_grad():
        first.weight.copy_(torch.tensor(params["W1"].T))
        first.bias.copy_(torch.tensor(params["b1"]))
        second.weight.copy_(torch.tensor(params["W2"].T))
        second.bias.copy_(torch.tensor(params["b2"]))
    layers = [first, torch.nn.ReLU()] + ([FixedDropout()] if with_dropout else []) + [second]
    net = torch.nn.Sequential(*layers)
    t_loss = torch.nn.functional.cross_entropy(net(torch.tensor(X)), torch.tensor(y))
    t_loss = t_loss + reg * (first.weight.pow(2).sum() + second.weight.pow(2).sum())
    t_loss.backward()

    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for name, theirs in (("W1", first.weight.grad.T), ("b1", first.bias.grad),
                         ("W2", second.weight.grad.T), ("b2", second.bias.grad)):
        np.testing.assert_allclose(grads[name], theirs.numpy(), rtol=1e-10, atol=1e-14, err_msg=name)


def test_overfits_50_examples(cifar):
    small = {"X_train": cifar["X_train"][:50], "y_train": cifar["y_train"][:50]}
    model, params = two_layer_net(small["X_train"].shape[1], 50, 10, rng=np.random.default_rng(0))
    history = train(model, params, small, update_rule=adam, config={"learning_rate": 1e-3},
                    num_iters=40, batch_size=50, rng=np.random.default_rng(1), progress=False)
    assert history.train_acc[-1] == 1.0
    assert accuracy(model, params, small["X_train"], small["y_train"]) == 1.0
    assert history.loss[0] == pytest.approx(math.log(10), abs=0.05)
    assert history.loss[-1] < 0.05


def _short_run(data, xp, dropout=RANDOM_DROPOUT):
    model, params = two_layer_net(data["X_train"].shape[1], 20, 10, reg=1e-3, dropout=dropout, p=P_DROP,
                                  rng=np.random.default_rng(0), xp=xp)
    history = train(model, params, data, update_rule=adam, num_iters=8, batch_size=20,
                    rng=np.random.default_rng(1), progress=False)
    return history, params


def test_runs_unchanged_on_array_api_strict(cifar):
    xps = pytest.importorskip("array_api_strict")
    small = {k: v[:100] for k, v in cifar.items()}
    expected, expected_params = _short_run(small, np)
    got, params = _short_run({k: xps.asarray(v) for k, v in small.items()}, xps)
    assert all(type(v).__module__.startswith("array_api_strict") for v in params.values())
    assert got.loss[-1] < got.loss[0]
    np.testing.assert_allclose(got.loss, expected.loss, rtol=1e-10)
    assert got.train_acc == expected.train_acc and got.val_acc == expected.val_acc
    for name in params:
        np.testing.assert_allclose(np.asarray(params[name]), expected_params[name], rtol=1e-9, atol=1e-12)


def test_same_seeds_same_run(cifar):
    small = {k: v[:100] for k, v in cifar.items()}
    first, first_params = _short_run(small, np)
    second, second_params = _short_run(small, np)
    assert first.loss == second.loss
    for name in first_params:
        np.testing.assert_array_equal(first_params[name], second_params[name])
    # the dropout masks come from the trainer's rng: another seed gives another run
    model, params = two_layer_net(small["X_train"].shape[1], 20, 10, reg=1e-3, dropout=RANDOM_DROPOUT,
                                  p=P_DROP, rng=np.random.default_rng(0))
    rows = np.arange(20)
    losses = {model.loss_and_grads(params, small["X_train"][rows], small["y_train"][rows],
                                   np.random.default_rng(seed))[0] for seed in (0, 0, 1)}
    assert len(losses) == 2
