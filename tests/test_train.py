"""The shared training loop: learns, follows the schedule, runs on any Array-API backend."""
import contextlib

import numpy as np
import pytest

from optimlab.data import get_cifar10_data
from optimlab.train import accuracy, linear_model, plot_history, train


def softmax_loss(W, X, y, reg):
    """Softmax loss and gradient written independently of the notebooks (any backend)."""
    from array_api_compat import array_namespace
    xp = array_namespace(W, X)
    scores = X @ W
    scores = scores - xp.max(scores, axis=1, keepdims=True)
    probs = xp.exp(scores)
    probs = probs / xp.sum(probs, axis=1, keepdims=True)
    onehot = xp.astype(y[:, None] == xp.arange(W.shape[1])[None, :], W.dtype)
    n = X.shape[0]
    loss = -xp.sum(onehot * xp.log(probs)) / n + reg * xp.sum(W * W)
    return float(loss), X.T @ (probs - onehot) / n + 2 * reg * W


def sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


@pytest.fixture(scope="module")
def data():
    return get_cifar10_data(use_sample=True)


def test_training_learns_the_sample_data(data):
    params = {"W": 1e-4 * np.random.default_rng(0).standard_normal((3073, 10))}
    model = linear_model(softmax_loss, reg=1e-4)
    history = train(model, params, data, update_rule=sgd, config={"learning_rate": 1e-7},
                    num_iters=300, batch_size=100, rng=np.random.default_rng(1), progress=False)
    assert len(history.loss) == 300
    assert history.loss[-1] < history.loss[0] - 0.3
    assert history.best_val_acc >= 0.4
    assert accuracy(model, history.best_params, data["X_val"], data["y_val"]) == history.best_val_acc
    assert history.epoch[-1] == pytest.approx(300 / (len(data["X_train"]) // 100))
    plot_history(history)


def test_schedule_sets_the_learning_rate_of_every_step(data):
    params = {"W": np.zeros((3073, 10))}
    history = train(linear_model(softmax_loss, 0.0), params, data, update_rule=sgd,
                    schedule=lambda t: 1e-7 / (t + 1), num_iters=5, batch_size=10, progress=False)
    assert history.learning_rate == pytest.approx([1e-7 / (t + 1) for t in range(5)])


def test_same_seed_same_run(data):
    runs = []
    for _ in range(2):
        params = {"W": np.zeros((3073, 10))}
        runs.append(train(linear_model(softmax_loss, 1e-3), params, data, update_rule=sgd,
                          config={"learning_rate": 1e-7}, num_iters=20, batch_size=50,
                          rng=np.random.default_rng(5), progress=False).loss)
    assert runs[0] == runs[1]


def test_runs_unchanged_on_array_api_strict(data):
    xp = pytest.importorskip("array_api_strict")
    small = {k: xp.asarray(data[k][:200]) for k in ("X_train", "y_train", "X_val", "y_val")}
    params = {"W": xp.zeros((3073, 10), dtype=xp.float64)}
    history = train(linear_model(softmax_loss, 0.0), params, small, update_rule=sgd,
                    config={"learning_rate": 1e-7}, num_iters=10, batch_size=20, progress=False)
    assert len(history.loss) == 10 and history.loss[-1] < history.loss[0]
    assert type(params["W"]).__module__.startswith("array_api_strict")


def _screen(printed: str) -> list[str]:
    """The lines a terminal shows for `printed`: a carriage return writes over its line."""
    lines = []
    for line in printed.split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown.rstrip())
    return [line for line in lines if line]


class _FailsAt:
    """A linear model whose loss raises NotImplementedError from step `step` on."""

    def __init__(self, step: int):
        self.inner, self.step, self.calls = linear_model(softmax_loss, 0.0), step, 0

    def loss_and_grads(self, params, X, y, rng):
        self.calls += 1
        if self.calls > self.step:
            raise NotImplementedError()
        return self.inner.loss_and_grads(params, X, y, rng)

    def predict(self, params, X):
        return self.inner.predict(params, X)


@pytest.mark.parametrize("fails_at", [None, 0, 3])
def test_progress_bar_shows_the_run_and_no_empty_bar_above_an_error(data, capsys, fails_at):
    params = {"W": np.zeros((3073, 10))}
    model = linear_model(softmax_loss, 0.0) if fails_at is None else _FailsAt(fails_at)
    with contextlib.nullcontext() if fails_at is None else pytest.raises(NotImplementedError):
        train(model, params, data, update_rule=sgd, config={"learning_rate": 1e-7}, num_iters=5, batch_size=10,
              desc="demo run")
    shown = _screen(capsys.readouterr().out)
    if fails_at == 0:      # nothing ran: the error alone says what to do
        assert shown == []
    elif fails_at == 3:    # the steps that ran stay visible
        assert len(shown) == 1 and shown[0].startswith("demo run") and "3/5" in shown[0]
    else:
        assert len(shown) == 1 and "5/5" in shown[0] and "loss" in shown[0] and "train acc" in shown[0]
