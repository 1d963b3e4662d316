"""Networks built from `optimlab.layers`, as models the training loop `optimlab.train.train` accepts.

A model is `Model(loss_and_grads, predict)` over a dict of parameter arrays
(see `optimlab.train`). The regularization convention is the course's:
loss = mean cross-entropy + reg * sum of squared weights (no 1/2), so the
penalty's gradient is `2 * reg * W`; biases are not regularized. With AdamW the
weight decay is the optimizer's job and `reg` stays 0.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy
from array_api_compat import array_namespace

from optimlab.layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss
from optimlab.train import Model


def two_layer_net(input_dim: int, hidden_dim: int, num_classes: int, *, reg: float = 0.0,
                  weight_scale: float | str = 1e-3,
                  dropout: tuple[Callable, Callable] | None = None, p: float = 0.0,
                  rng: numpy.random.Generator, xp=numpy, dtype=None) -> tuple[Model, dict]:
    """A two-layer ReLU network: affine - ReLU - [dropout] - affine - softmax.

    input_dim: D, hidden_dim: H, num_classes: C.
    reg: L2 strength, loss += reg * (sum(W1**2) + sum(W2**2)).
    weight_scale: standard deviation of the Gaussian initial weights, or "he"
        for sqrt(2 / fan_in) per layer. Small weights (the default) give a loss
        of about log C at initialization on mean-subtracted pixel data.
    dropout: `(dropout_forward, dropout_backward)` with
        `dropout_forward(x, p, mode, rng) -> (out, cache)` and
        `dropout_backward(dout, cache) -> dx`, applied after the hidden ReLU
        during training only, with the training loop's rng. `predict` never drops.
    p: drop probability given to `dropout_forward`.
    rng: NumPy generator the initial weights are drawn from.
    xp: array namespace of the parameters (numpy, cupy, array_api_strict, ...).
    dtype: floating dtype of the parameters (default xp.float64).

    Returns `(model, params)`: `model.loss_and_grads(params, X, y, rng)` takes
    X (N, D) and y (N,) and returns (loss as a Python float, grads shaped like
    params); `model.predict(params, X)` returns the (N,) predicted labels.
    params: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,); biases start at zero.
    """
    if dropout is None and p != 0.0:
        raise ValueError(f"p={p} asks for dropout but no layer was given: pass "
                         "dropout=(dropout_forward, dropout_backward).")
    if isinstance(weight_scale, str) and weight_scale != "he":
        raise ValueError(f'weight_scale must be a number or "he", not {weight_scale!r}.')
    dtype = xp.float64 if dtype is None else dtype
    dropout_forward, dropout_backward = (None, None) if dropout is None else dropout

    def gaussian(fan_in: int, fan_out: int):
        std = math.sqrt(2.0 / fan_in) if weight_scale == "he" else weight_scale
        return xp.asarray(std * rng.standard_normal((fan_in, fan_out)), dtype=dtype)

    params = {
        "W1": gaussian(input_dim, hidden_dim),
        "b1": xp.zeros(hidden_dim, dtype=dtype),
        "W2": gaussian(hidden_dim, num_classes),
        "b2": xp.zeros(num_classes, dtype=dtype),
    }

    def loss_and_grads(params, X, y, rng):
        hidden, affine1_cache = affine_forward(X, params["W1"], params["b1"])
        hidden, relu_cache = relu_forward(hidden)
        if dropout_forward is not None:
            hidden, dropout_cache = dropout_forward(hidden, p, "train", rng)
        scores, affine2_cache = affine_forward(hidden, params["W2"], params["b2"])
        data_loss, dscores = softmax_loss(scores, y)

        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, affine2_cache)
        if dropout_backward is not None:
            dhidden = dropout_backward(dhidden, dropout_cache)
        dhidden = relu_backward(dhidden, relu_cache)
        _, grads["W1"], grads["b1"] = affine_backward(dhidden, affine1_cache, input_grad=False)  # X is data

        penalty = 0.0
        if reg:
            ns = array_namespace(params["W1"], params["W2"])
            penalty = reg * float(ns.sum(params["W1"] ** 2) + ns.sum(params["W2"] ** 2))
            grads["W1"] = grads["W1"] + 2 * reg * params["W1"]
            grads["W2"] = grads["W2"] + 2 * reg * params["W2"]
        return data_loss + penalty, grads

    def predict(params, X):  # never drops units
        hidden, _ = relu_forward(affine_forward(X, params["W1"], params["b1"])[0])
        scores, _ = affine_forward(hidden, params["W2"], params["b2"])
        return array_namespace(scores).argmax(scores, axis=1)

    return Model(loss_and_grads, predict), params
