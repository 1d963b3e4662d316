"""04_schedules: the reference schedules against torch.optim.lr_scheduler, closed forms and the lecture's numbers."""
import math
import warnings

import numpy as np
import pytest

from autograder.reference import load_reference
from torch_oracle import needs_torch, torch

ref = load_reference("04_schedules")


def torch_rates(lr0, make_scheduler, num_steps):
    """The learning rate PyTorch uses at steps 0 .. num_steps - 1 (one scheduler.step() per optimizer step)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr0)
    scheduler = make_scheduler(optimizer)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's internal step(0) is deprecated
        for _ in range(num_steps):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
    return np.array(rates)


def max_rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.abs(b))))


@needs_torch
@pytest.mark.parametrize("lr0,milestones,gamma", [(0.1, [30, 60, 90], 0.1), (1.0, [5, 12, 13], 0.5),
                                                  (3e-4, [1, 40], 0.2)])
def test_step_decay_is_multisteplr(lr0, milestones, gamma):
    expected = torch_rates(lr0, lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma), 120)
    assert max_rel(ref.step_decay(np.arange(120), lr0, milestones, gamma), expected) < 1e-14


@needs_torch
@pytest.mark.parametrize("lr0,T,lr_min", [(0.1, 100, 0.0), (1.0, 7, 0.01), (2e-3, 1000, 1e-5)])
def test_cosine_decay_is_cosineannealinglr_up_to_T(lr0, T, lr_min):
    # PyTorch's recursive form over the run; after T it keeps cycling, while cosine_decay holds lr_min.
    expected = torch_rates(lr0, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T, eta_min=lr_min), T + 1)
    got = ref.cosine_decay(np.arange(T + 1), lr0, T, lr_min)
    assert np.max(np.abs(got - expected)) < 1e-12 * lr0
    closed = lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * np.arange(T + 1) / T))  # torch's closed form
    assert np.max(np.abs(got - closed)) < 1e-15 * lr0 + 1e-18
    assert np.all(ref.cosine_decay(np.arange(T, 3 * T), lr0, T, lr_min) == lr_min)


@needs_torch
@pytest.mark.parametrize("lr0,T", [(0.1, 100), (3.0, 4), (0.2, 1000)])
def test_linear_decay_is_linearlr(lr0, T):
    expected = torch_rates(lr0, lambda o: torch.optim.lr_scheduler.LinearLR(o, 1.0, 0.0, total_iters=T), 2 * T)
    assert np.max(np.abs(ref.linear_decay(np.arange(2 * T), lr0, T) - expected)) < 1e-13 * lr0


@needs_torch
def test_inverse_sqrt_is_lambdalr():
    expected = torch_rates(0.5, lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1 / math.sqrt(max(t, 1))), 500)
    assert max_rel(ref.inverse_sqrt(np.arange(500), 0.5), expected) < 1e-15


@needs_torch
@pytest.mark.parametrize("warmup", [1, 5, 40])
def test_warmup_over_a_constant_rate_is_sequentiallr(warmup):
    lr0 = 0.1

    def make(o):
        ramp = torch.optim.lr_scheduler.LinearLR(o, 1 / warmup, 1.0, total_iters=warmup - 1)
        hold = torch.optim.lr_scheduler.ConstantLR(o, 1.0, total_iters=0)
        return torch.optim.lr_scheduler.SequentialLR(o, [ramp, hold], milestones=[warmup])

    expected = torch_rates(lr0, make, 100)
    got = ref.linear_warmup(np.arange(100), warmup, lambda t: lr0 + 0.0 * np.asarray(t, dtype=float))
    assert max_rel(got, expected) < 1e-14


@needs_torch
def test_warmup_then_step_decay_is_sequentiallr():
    lr0, warmup, milestones = 0.2, 10, [30, 60]

    def make(o):
        ramp = torch.optim.lr_scheduler.LinearLR(o, 1 / warmup, 1.0, total_iters=warmup - 1)
        decay = torch.optim.lr_scheduler.MultiStepLR(o, [m - warmup for m in milestones], 0.1)  # restarts at warmup
        return torch.optim.lr_scheduler.SequentialLR(o, [ramp, decay], milestones=[warmup])

    expected = torch_rates(lr0, make, 90)
    got = ref.linear_warmup(np.arange(90), warmup, lambda t: ref.step_decay(t, lr0, milestones))
    assert max_rel(got, expected) < 1e-14


@needs_torch
def test_warmup_times_cosine_is_chainedscheduler_and_lambdalr():
    lr0, warmup, T = 0.1, 20, 200

    def chained(o):
        return torch.optim.lr_scheduler.ChainedScheduler([
            torch.optim.lr_scheduler.LinearLR(o, 1 / warmup, 1.0, total_iters=warmup - 1),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, T)])

    def factor(t):
        return min(1.0, (t + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(t, T) / T))

    got = ref.linear_warmup(np.arange(T + 1), warmup, lambda t: ref.cosine_decay(t, lr0, T))
    assert np.max(np.abs(got - torch_rates(lr0, chained, T + 1))) < 1e-12 * lr0
    lambda_lr = torch_rates(lr0, lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor), T + 1)
    assert max_rel(got[:-1], lambda_lr[:-1]) < 1e-14  # (the last entry is 0 in both)


def test_lecture_step_decay_at_epochs_30_60_90():
    epochs = np.array([0, 29, 30, 59, 60, 89, 90, 99])
    assert np.allclose(ref.step_decay(epochs, 0.1, [30, 60, 90]), [0.1, 0.1, 1e-2, 1e-2, 1e-3, 1e-3, 1e-4, 1e-4],
                       rtol=1e-14, atol=0)


def test_closed_forms_at_the_boundaries():
    assert float(ref.cosine_decay(0, 0.3, 50, 0.01)) == pytest.approx(0.3, abs=1e-16)
    assert float(ref.cosine_decay(25, 0.3, 50, 0.01)) == pytest.approx(0.155, rel=1e-14)
    assert float(ref.cosine_decay(50, 0.3, 50, 0.01)) == 0.01
    assert float(ref.linear_decay(5, 1.0, 20)) == 0.75 and float(ref.linear_decay(25, 1.0, 20)) == 0.0
    with np.errstate(all="raise"):
        assert ref.inverse_sqrt(np.arange(3), 1.0).tolist() == [1.0, 1.0, 1 / math.sqrt(2)]
    ramp = ref.linear_warmup(np.arange(6), 4, lambda t: 2.0 + 0.0 * np.asarray(t, dtype=float))
    assert ramp.tolist() == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]


def test_scalar_and_array_steps_agree_and_keep_the_shape():
    t = np.array([[0, 7], [30, 200]])
    cases = [
        (ref.step_decay, (0.1, [7, 30])), (ref.cosine_decay, (0.1, 30, 1e-3)), (ref.linear_decay, (0.1, 30)),
        (ref.inverse_sqrt, (0.1,)), (ref.linear_warmup, (10, lambda s: ref.cosine_decay(s, 0.1, 30))),
    ]
    for fn, args in cases:
        whole = fn(t, *args)
        assert whole.shape == (2, 2)
        np.testing.assert_allclose([float(fn(int(s), *args)) for s in t.ravel()], whole.ravel(), rtol=1e-14, atol=0)


def test_array_api_strict_input_gives_array_api_strict_output():
    xp = pytest.importorskip("array_api_strict")
    t = xp.arange(0, 50, 7)
    for out in (ref.step_decay(t, 0.1, [10, 30]), ref.cosine_decay(t, 0.1, 30, 1e-3), ref.linear_decay(t, 0.1, 30),
                ref.inverse_sqrt(t, 0.1), ref.linear_warmup(t, 10, lambda s: ref.cosine_decay(s, 0.1, 30))):
        assert type(out).__module__.startswith("array_api_strict") and out.shape == t.shape
