"""Layers of a fully connected network: each forward pass next to its backward pass.

A forward pass returns `(out, cache)`; the matching backward pass takes the
upstream gradient `dout` (shaped like `out`) and exactly that cache, and returns
the gradients with respect to the forward pass's inputs, each shaped like its
input. `softmax_loss` ends a network: it returns the loss and the gradient of
the scores at once.

Every function gets its array namespace from its arguments and uses only
Array-API operations, so it runs unchanged on NumPy, CuPy and `array_api_strict`
arrays.
"""
from __future__ import annotations

from array_api_compat import array_namespace, device


def affine_forward(x, w, b):
    """Fully connected layer: `out = x @ w + b`, each example's dimensions flattened.

    Inputs:
        x: (N, d_1, ..., d_k), N examples of D = d_1 * ... * d_k numbers each.
        w: (D, M) weights.
        b: (M,) biases.
    Returns:
        out: (N, M).
        cache: (x, w, b).
    """
    xp = array_namespace(x, w, b)
    out = xp.reshape(x, (x.shape[0], -1)) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache, *, input_grad: bool = True):
    """Backward pass of `affine_forward`.

    Inputs:
        dout: (N, M) upstream gradient.
        cache: (x, w, b) from `affine_forward`.
        input_grad: False skips dx, for a first layer whose input is the data
            (its (N, M) @ (M, D) product is a third of the layer's backward cost).
    Returns:
        dx: (N, d_1, ..., d_k), shaped like x; None if input_grad is False.
        dw: (D, M).
        db: (M,).
    """
    x, w, b = cache
    xp = array_namespace(dout, x, w)
    dx = xp.reshape(dout @ w.T, x.shape) if input_grad else None
    dw = xp.reshape(x, (x.shape[0], -1)).T @ dout
    db = xp.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit: `out = max(x, 0)` elementwise.

    Inputs:
        x: any shape.
    Returns:
        out: shaped like x.
        cache: x.
    """
    xp = array_namespace(x)
    return xp.where(x > 0, x, xp.zeros_like(x)), x


def relu_backward(dout, cache):
    """Backward pass of `relu_forward`; the gradient at exactly 0 is taken as 0 (as in PyTorch).

    Inputs:
        dout: upstream gradient, shaped like x.
        cache: x from `relu_forward`.
    Returns:
        dx: shaped like x.
    """
    x = cache
    xp = array_namespace(dout, x)
    return xp.where(x > 0, dout, xp.zeros_like(dout))


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of the scores, and its gradient.

    Numerically stable: the row maximum is subtracted before exponentiating and
    the log-probabilities are computed as `s - log(sum(exp(s)))`, so scores of
    any magnitude give a finite loss.

    Inputs:
        scores: (N, C), scores[i, j] is the score of class j for example i.
        y: (N,) integer labels, 0 <= y[i] < C.
    Returns:
        loss: Python float, `-mean_i log softmax(scores[i])[y[i]]`.
        dscores: (N, C), gradient of the loss with respect to the scores.
    """
    xp = array_namespace(scores, y)
    num_examples, num_classes = scores.shape
    shifted = scores - xp.max(scores, axis=1, keepdims=True)
    log_probs = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
    classes = xp.arange(num_classes, dtype=y.dtype, device=device(scores))
    onehot = xp.astype(y[:, None] == classes[None, :], scores.dtype)
    loss = -xp.sum(onehot * log_probs) / num_examples
    dscores = (xp.exp(log_probs) - onehot) / num_examples
    return float(loss), dscores
