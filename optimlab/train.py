"""The minibatch training loop the notebooks share: any model, update rule and schedule.

A model is a pair of functions over a dict of parameter arrays:

    loss_and_grads(params, X, y, rng) -> (loss, grads)   grads shaped like params
    predict(params, X) -> labels of shape (N,)

`train` samples minibatches, asks the model for the loss and gradients, and
moves every parameter with the update rule (`next_w, config = rule(w, dw,
config)`, one config dict per parameter, as in CS231n's Solver). A schedule,
if given, sets the learning rate of step t (counted from 0) before the step.
The loop only uses Array-API operations on the data, so it runs unchanged on
NumPy, CuPy and `array_api_strict` arrays.
"""
from __future__ import annotations

import copy
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from array_api_compat import array_namespace
from tqdm.auto import tqdm


@dataclass
class Model:
    """What `train` needs to know of a model."""

    loss_and_grads: Callable
    predict: Callable


@dataclass
class History:
    """What happened during training."""

    loss: list[float] = field(default_factory=list)           # every iteration
    learning_rate: list[float] = field(default_factory=list)  # every iteration
    epoch: list[float] = field(default_factory=list)          # at every evaluation
    train_acc: list[float] = field(default_factory=list)      # at every evaluation
    val_acc: list[float] = field(default_factory=list)        # at every evaluation
    best_val_acc: float = 0.0
    best_params: dict = field(default_factory=dict)
    seconds: float = 0.0


def linear_model(loss_fn: Callable, reg: float) -> Model:
    """A linear classifier `scores = X @ W` trained with `loss_fn(W, X, y, reg) -> (loss, dW)`."""
    def loss_and_grads(params, X, y, rng):
        loss, dW = loss_fn(params["W"], X, y, reg)
        return loss, {"W": dW}

    def predict(params, X):
        xp = array_namespace(X)
        return xp.argmax(X @ params["W"], axis=1)

    return Model(loss_and_grads, predict)


def accuracy(model: Model, params: dict, X, y, batch_size: int = 5000) -> float:
    """Fraction of the rows of X whose predicted label equals y, computed in chunks."""
    xp = array_namespace(X)
    correct = 0
    for start in range(0, X.shape[0], batch_size):
        stop = min(start + batch_size, X.shape[0])  # the Array API has no out-of-bounds slices
        pred = model.predict(params, X[start:stop, ...])
        correct += int(xp.sum(xp.astype(pred == y[start:stop], xp.int64)))
    return correct / X.shape[0]


def _copy(params: dict) -> dict:
    return {k: array_namespace(v).asarray(v, copy=True) for k, v in params.items()}


def train(model: Model, params: dict, data: dict, *, update_rule: Callable, config: dict | None = None,
          schedule: Callable | None = None, num_iters: int = 1000, batch_size: int = 200,
          rng: np.random.Generator | None = None, eval_every: int | None = None,
          num_train_eval: int = 1000, progress: bool = True, desc: str = "training") -> History:
    """Trains `params` (a dict of arrays, updated in place of the dict) by minibatch descent.

    data: dict with X_train (N, D), y_train (N,), and optionally X_val, y_val.
    update_rule: `rule(w, dw, config) -> (next_w, config)`; `config` is copied per parameter.
    schedule: optional `schedule(t) -> learning rate` of step t = 0, 1, ...
    rng: draws the minibatch indices (NumPy generator; indices go to the data's namespace).
    eval_every: iterations between accuracy evaluations (default: once per epoch).
    Returns the History; `params` holds the final weights, `History.best_params` the
    weights with the best validation accuracy.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    X, y = data["X_train"], data["y_train"]
    xp = array_namespace(X)
    num_train = X.shape[0]
    iters_per_epoch = max(num_train // batch_size, 1)
    eval_every = eval_every or iters_per_epoch
    configs = {name: copy.deepcopy(config or {}) for name in params}
    eval_rows = xp.asarray(rng.choice(num_train, min(num_train_eval, num_train), replace=False))
    X_eval, y_eval = xp.take(X, eval_rows, axis=0), xp.take(y, eval_rows, axis=0)
    history = History()
    start = time.perf_counter()

    def evaluate(t: int) -> None:
        history.epoch.append(t / iters_per_epoch)
        history.train_acc.append(accuracy(model, params, X_eval, y_eval))
        if "X_val" in data:
            history.val_acc.append(accuracy(model, params, data["X_val"], data["y_val"]))
            if history.val_acc[-1] >= history.best_val_acc:
                history.best_val_acc = history.val_acc[-1]
                history.best_params = _copy(params)

    bar = None   # shown once a step has run: a run that fails at once shows only its traceback
    try:
        for t in range(num_iters):
            rows = xp.asarray(rng.integers(0, num_train, size=batch_size))
            loss, grads = model.loss_and_grads(params, xp.take(X, rows, axis=0), xp.take(y, rows, axis=0), rng)
            lr = None if schedule is None else float(schedule(t))
            for name in params:
                if lr is not None:
                    configs[name]["learning_rate"] = lr
                params[name], configs[name] = update_rule(params[name], grads[name], configs[name])
            history.loss.append(float(loss))
            history.learning_rate.append(configs[next(iter(params))].get("learning_rate", float("nan")))
            if bar is None:
                bar = tqdm(total=num_iters, desc=desc, disable=not progress, file=sys.stdout, mininterval=1.0,
                           leave=True, dynamic_ncols=True)
            if (t + 1) % eval_every == 0 or t + 1 == num_iters:
                evaluate(t + 1)
                val = f", val acc {history.val_acc[-1]:.3f}" if history.val_acc else ""
                bar.set_postfix_str(f"loss {history.loss[-1]:.3f}, train acc {history.train_acc[-1]:.3f}{val}",
                                    refresh=False)
            bar.update()
    finally:
        if bar is not None:
            bar.close()
    history.seconds = time.perf_counter() - start
    return history


def plot_history(history: History, title: str = "Training"):
    """Loss per iteration and accuracies per evaluation, side by side; returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax_loss.plot(history.loss, lw=0.8)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("minibatch loss")
    ax_loss.set_title(f"{title}: loss")
    ax_acc.plot(history.epoch, history.train_acc, "o-", label="train (subset)")
    if history.val_acc:
        ax_acc.plot(history.epoch, history.val_acc, "s-", label="validation")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title(f"{title}: accuracy")
    ax_acc.legend()
    fig.tight_layout()
    return fig
