"""03_optimizers: the master notebook's references against independent oracles.

Oracles: `torch.optim` (SGD with momentum and Nesterov, Adagrad, RMSprop, Adam,
AdamW) over 20+ steps in float64 where PyTorch is installed, values derived by
hand for the first steps, the lecture's numbers (the Hessian's eigenvalues 18
and 2, the learning-rate experiment, the summary table), and NumPy itself for
the array_api_strict runs.
"""
import math

import numpy as np
import pytest

from autograder.reference import load_reference
from torch_oracle import needs_torch, torch

ref = load_reference("03_optimizers")

# (our rule, our config, torch optimizer name, its keyword arguments): several hyperparameter sets per rule.
TORCH_PAIRS = [
    ("sgd", {"learning_rate": 0.1}, "SGD", {"lr": 0.1}),
    ("sgd", {"learning_rate": 3e-3}, "SGD", {"lr": 3e-3}),
    ("sgd_momentum", {"learning_rate": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd_momentum", {"learning_rate": 0.2, "momentum": 0.5}, "SGD", {"lr": 0.2, "momentum": 0.5}),
    ("sgd_momentum", {"learning_rate": 1e-3, "momentum": 0.99}, "SGD", {"lr": 1e-3, "momentum": 0.99}),
    ("nesterov", {"learning_rate": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("nesterov", {"learning_rate": 0.2, "momentum": 0.5}, "SGD", {"lr": 0.2, "momentum": 0.5, "nesterov": True}),
    ("adagrad", {"learning_rate": 0.1, "epsilon": 1e-8}, "Adagrad", {"lr": 0.1, "eps": 1e-8}),
    ("adagrad", {"learning_rate": 1.0, "epsilon": 1e-3}, "Adagrad", {"lr": 1.0, "eps": 1e-3}),
    ("rmsprop", {"learning_rate": 0.01, "decay_rate": 0.99, "epsilon": 1e-8}, "RMSprop",
     {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
    ("rmsprop", {"learning_rate": 0.1, "decay_rate": 0.5, "epsilon": 1e-3}, "RMSprop",
     {"lr": 0.1, "alpha": 0.5, "eps": 1e-3}),
    ("adam", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}, "Adam",
     {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}),
    ("adam", {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3}, "Adam",
     {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}),
    ("adamw", {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 1e-2},
     "AdamW", {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}),
    ("adamw", {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-3, "weight_decay": 0.5},
     "AdamW", {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.5}),
]
NUM_STEPS = 25


def ours(name, config, w0, grads):
    w, config, path = w0, dict(config), [w0]
    for g in grads:
        w, config = getattr(ref, name)(w, g, config)
        path.append(w)
    return np.array(path)


def torch_path(optimizer, kwargs, w0, grads):
    p = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = getattr(torch.optim, optimizer)([p], **kwargs)
    path = [w0]
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def max_difference_against_torch(name, config, optimizer, kwargs, shape=(4, 3), seed=0):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal(shape)
    grads = [rng.uniform(0.1, 3.0) * rng.standard_normal(shape) + 0.3 for _ in range(NUM_STEPS)]
    return float(np.max(np.abs(ours(name, config, w0, grads) - torch_path(optimizer, kwargs, w0, grads))))


@needs_torch
@pytest.mark.parametrize("name,config,optimizer,kwargs", TORCH_PAIRS,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(TORCH_PAIRS)])
@pytest.mark.parametrize("shape", [(4, 3), (7,)])
def test_trajectory_equals_torch_optim(name, config, optimizer, kwargs, shape):
    """25 steps of a fixed gradient sequence: the w trajectories agree to rounding.

    PyTorch writes momentum in the lecture's form 2 (v = rho v + g; w -= lr v) and
    Nesterov as w -= lr (g + rho v) with that v; the reference uses form 1 and the
    lecture's change of variables. Under a constant learning rate the weights are the
    same (v_form1 = -lr v_form2), which is what is compared here.
    """
    assert max_difference_against_torch(name, config, optimizer, kwargs, shape) < 1e-12


@needs_torch
@pytest.mark.parametrize("name,config,optimizer,kwargs", TORCH_PAIRS[::2],
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(TORCH_PAIRS[::2])])
def test_closed_loop_descent_equals_torch_on_a_quadratic(name, config, optimizer, kwargs):
    """Gradients taken at the current weights (torch.autograd vs A w - b): 30 steps agree."""
    rng = np.random.default_rng(3)
    M = rng.standard_normal((5, 5))
    A, b = M @ M.T / 5 + np.eye(5), rng.standard_normal(5)
    path = ref.gradient_descent(lambda w: A @ w - b, np.zeros(5), getattr(ref, name), dict(config), 30)

    p = torch.nn.Parameter(torch.zeros(5, dtype=torch.float64))
    opt = getattr(torch.optim, optimizer)([p], **kwargs)
    At, bt = torch.tensor(A), torch.tensor(b)
    expected = [np.zeros(5)]
    for _ in range(30):
        opt.zero_grad()
        (0.5 * p @ At @ p - bt @ p).backward()
        opt.step()
        expected.append(p.detach().numpy().copy())
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-10, atol=1e-12)


@needs_torch
def test_momentum_forms_differ_under_a_schedule_by_design():
    """With a learning rate that changes, the lecture's two momentum forms differ (the notebook shows it).

    The reference is form 1 (v = rho v - lr g; w += v), PyTorch form 2. Under a step
    schedule the reference follows form 1's hand recurrence exactly and PyTorch does not.
    """
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(3) for _ in range(20)]
    lrs = [0.1] * 10 + [0.01] * 10
    w, config, v, w_hand = np.ones(3), {"momentum": 0.9}, np.zeros(3), np.ones(3)
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    for g, lr in zip(grads, lrs):
        config["learning_rate"] = lr
        w, config = ref.sgd_momentum(w, g, config)
        v = 0.9 * v - lr * g
        w_hand = w_hand + v
        opt.param_groups[0]["lr"] = lr
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(w, w_hand, rtol=1e-13)
    assert np.max(np.abs(w - p.detach().numpy())) > 1e-3


# --- values derived by hand -----------------------------------------------------------

def steps(name, grads, config, w0):
    w, config, out = np.asarray(w0, dtype=float), config, []
    for g in grads:
        w, config = getattr(ref, name)(w, np.asarray(g, dtype=float), config)
        out.append(w)
    return np.array(out), config


def test_sgd_first_steps():
    path, config = steps("sgd", [[1.0, -2.0], [0.5, 0.5]], {"learning_rate": 0.1}, [0.0, 1.0])
    np.testing.assert_allclose(path, [[-0.1, 1.2], [-0.15, 1.15]], rtol=1e-14)


def test_momentum_and_nesterov_first_steps():
    momentum, _ = steps("sgd_momentum", [[1.0]] * 3, {"learning_rate": 0.1, "momentum": 0.9}, [1.0])
    np.testing.assert_allclose(momentum.ravel(), [0.9, 0.71, 0.439], rtol=1e-14)
    # look-ahead form by hand: x' = x + v'; v' = rho v - lr grad(x + rho v); with a constant gradient
    # the gradient does not depend on the point, so w_t = x_t + rho v_t with x, v of plain momentum.
    nesterov, _ = steps("nesterov", [[1.0]] * 3, {"learning_rate": 0.1, "momentum": 0.9}, [1.0])
    x, v, expected = 1.0, 0.0, []
    for _ in range(3):
        v = 0.9 * v - 0.1
        x = x + v
        expected.append(x + 0.9 * v)
    np.testing.assert_allclose(nesterov.ravel(), expected, rtol=1e-14)
    np.testing.assert_allclose(expected, [0.81, 0.539, 0.1951], rtol=1e-12)


def test_adagrad_and_rmsprop_first_steps():
    g = np.array([10.0, 0.1, -3.0])
    adagrad, config = steps("adagrad", [g, g, 2 * g], {"learning_rate": 0.1, "epsilon": 0.0}, np.ones(3))
    travelled = np.cumsum([1, 1 / math.sqrt(2), 2 / math.sqrt(6)])   # |step| / lr: g/|g|, g/|g|/sqrt(2), 2g/sqrt(6 g^2)
    expected = 1 - 0.1 * np.sign(g) * travelled[:, None]
    np.testing.assert_allclose(adagrad, expected, rtol=1e-14)
    np.testing.assert_allclose(config["grad_squared"], 6 * g * g, rtol=1e-14)

    rmsprop, _ = steps("rmsprop", [g, g], {"learning_rate": 0.01, "decay_rate": 0.99, "epsilon": 0.0}, np.ones(3))
    first = 1 - 0.01 * np.sign(g) / math.sqrt(0.01)
    second = first - 0.01 * np.sign(g) / math.sqrt(0.99 * 0.01 + 0.01)
    np.testing.assert_allclose(rmsprop, [first, second], rtol=1e-14)


def test_adam_and_adamw_first_steps():
    g1, g2 = np.array([1e-3, 1.0, -1e3]), np.array([2e-3, -1.0, 0.0])
    config = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 0.0}
    adam, state = steps("adam", [g1, g2], dict(config), np.zeros(3))
    np.testing.assert_allclose(adam[0], -0.01 * np.sign(g1), rtol=1e-13)  # first step: lr * sign(g)
    m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1 - 0.9 ** 2)
    v = (0.999 * 0.001 * g1 ** 2 + 0.001 * g2 ** 2) / (1 - 0.999 ** 2)
    np.testing.assert_allclose(adam[1], adam[0] - 0.01 * m / np.sqrt(v), rtol=1e-13)
    assert state["t"] == 2

    adamw, _ = steps("adamw", [g1, g2], {**config, "weight_decay": 0.5}, np.ones(3))
    first = np.ones(3) * (1 - 0.01 * 0.5) - 0.01 * np.sign(g1)
    np.testing.assert_allclose(adamw[0], first, rtol=1e-13)
    np.testing.assert_allclose(adamw[1], first * (1 - 0.005) - 0.01 * m / np.sqrt(v), rtol=1e-13)


DEFAULTS = {  # CURRICULUM.md, section 03
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 1e-2},
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_defaults_and_no_mutation(name):
    w, dw = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    next_w, config = getattr(ref, name)(w, dw, None)
    assert {k: config[k] for k in DEFAULTS[name]} == DEFAULTS[name]
    assert next_w is not w and np.array_equal(w, [1.0, -2.0]) and np.array_equal(dw, [0.5, 3.0])
    # config=None and an explicit config holding the defaults take the same step
    np.testing.assert_array_equal(next_w, getattr(ref, name)(w, dw, dict(DEFAULTS[name]))[0])


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_rules_run_unchanged_on_array_api_strict(name):
    xp = pytest.importorskip("array_api_strict")
    rng = np.random.default_rng(11)
    w0, grads = rng.standard_normal((3, 2)), [rng.standard_normal((3, 2)) for _ in range(6)]
    w_np, w_xp, c_np, c_xp = w0, xp.asarray(w0), None, None
    for g in grads:
        w_np, c_np = getattr(ref, name)(w_np, g, c_np)
        w_xp, c_xp = getattr(ref, name)(w_xp, xp.asarray(g), c_xp)
    assert type(w_xp).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.from_dlpack(w_xp), w_np, rtol=1e-15)


# --- the lecture's numbers ------------------------------------------------------------

@pytest.mark.parametrize("name", ["QUADRATIC", "SADDLE", "ROSENBROCK", "LECTURE"])
def test_landscape_gradients_and_hessians_are_the_derivatives(name):
    from optimlab import landscapes

    land, h = getattr(landscapes, name), 1e-5
    for p in np.random.default_rng(4).uniform(-1.5, 1.5, size=(5, 2)):
        grad = [(land.value(p + h * e) - land.value(p - h * e)) / (2 * h) for e in np.eye(2)]
        hess = [(land.grad(p + h * e) - land.grad(p - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(land.grad(p), grad, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(land.hessian(p), np.array(hess).T, rtol=1e-6, atol=1e-6)
    if land.minimum is not None:
        np.testing.assert_allclose(land.grad(np.array(land.minimum)), [0.0, 0.0], atol=1e-12)


def test_lecture_hessian_and_learning_rate_facts():
    from optimlab.landscapes import LECTURE

    eig = np.linalg.eigvalsh(LECTURE.hessian(np.array([0.3, -2.0])))
    np.testing.assert_allclose(eig, [2.0, 18.0], rtol=1e-14)
    facts = ref.lr_facts
    assert facts["largest_eigenvalue"] == eig[1] and facts["smallest_eigenvalue"] == eig[0]
    assert facts["critical_learning_rate"] == pytest.approx(2 / 18)
    for key, lr, lam in [("factor_at_0.11", 0.11, 18), ("factor_at_0.12", 0.12, 18), ("slow_factor_at_0.01", 0.01, 2)]:
        assert facts[key] == pytest.approx(1 - lr * lam)


def test_lecture_learning_rate_experiment():
    """1e-2 falls short, 10e-2 converges, 11e-2 oscillates, 12e-2 diverges (30 steps from (-4, 0))."""
    from optimlab.landscapes import LECTURE

    def run(lr):
        path = ref.gradient_descent(LECTURE.grad, np.array([-4.0, 0.0]), ref.sgd, {"learning_rate": lr}, 30)
        return path, np.array([LECTURE.value(p) for p in path])

    short, f_short = run(0.01)
    assert np.all(np.diff(f_short) < 0) and np.linalg.norm(short[-1] - [1, 3]) > 0.5
    _, f_conv = run(0.10)
    assert f_conv[-1] < 1e-3 * f_conv[0]
    osc, f_osc = run(0.11)
    along_steep = (osc - [1, 3]) @ np.array([1.0, 1.0]) / math.sqrt(2)
    assert np.all(along_steep[1:] * along_steep[:-1] < 0)          # flips side at every step
    assert f_osc[-1] < f_osc[0] and f_osc[-1] > 0.1 * f_osc[0]     # and shrinks only slowly
    _, f_div = run(0.12)
    assert f_div[-1] > 1e3 * f_div[0]


def test_one_newton_step_solves_the_lecture_quadratic():
    from optimlab.landscapes import LECTURE

    x0 = np.array([-4.0, 0.0])
    np.testing.assert_allclose(x0 - np.linalg.solve(LECTURE.hessian(x0), LECTURE.grad(x0)), [1.0, 3.0], rtol=1e-14)


def test_summary_table_is_the_lecture_table():
    yes, no = True, False
    lecture = {  # first moments, second moments, leaky second moments, bias correction
        "sgd": (no, no, no, no), "sgd_momentum": (yes, no, no, no), "nesterov": (yes, no, no, no),
        "adagrad": (no, yes, no, no), "rmsprop": (no, yes, yes, no), "adam": (yes, yes, yes, yes),
    }
    assert ref.optimizer_table == lecture


def test_adam_step_length_is_the_learning_rate_for_a_constant_gradient():
    """Bias correction: with g constant, m_hat = g and v_hat = g**2 at every t, so each step is lr * sign(g)."""
    w, config = np.zeros(2), {"learning_rate": 1e-3}
    for _ in range(200):
        w_next, config = ref.adam(w, np.array([3.0, -1e-2]), config)
        np.testing.assert_allclose(w_next - w, [-1e-3, 1e-3], rtol=1e-5)
        w = w_next
