"""Hidden tests of 03_optimizers: cases and known mistakes of every graded function.

The references are the master notebook's (`solutions/03_optimizers/optimizers.ipynb`).

An update rule is tested by driving it for several steps: a fixed sequence of
gradients, one config dict carried from step to step, as a training loop does.
What is compared is the trajectory of `w` (never the internal state, so both
lecture formulations of momentum are right) and the hyperparameters left in
the final config (so the defaults of `config=None` are checked). The driver
also catches a rule that writes into `w` or `dw`, and one that leaves the
array library it was given (the `array_api_strict` cases).

The variants below are the mistakes students make, written the way a student
would write them; a failed case whose output matches one is diagnosed with its
message.
"""
from __future__ import annotations

import numpy as np
from array_api_compat import array_namespace

from autograder.spec import Case, Check, Mistake, answer_case, decode, look_up_answer, to_numpy

ASSIGNMENT = "03_optimizers"
STRICT = "array_api_strict"

IN_PLACE = "the update rule changed w or dw in place; return a new array"


# --- the driver of the update-rule checks -------------------------------------------

def _same(before, after) -> bool:
    """True when `after` still holds the values of `before` (NaN equal to NaN)."""
    xp = array_namespace(before)
    return bool(xp.all((before == after) | (xp.isnan(before) & xp.isnan(after))))


def drive(rule, args):
    """Runs `rule` over a sequence of gradients, carrying its config from step to step.

    args: (w0, grads, config, keys): the first weights, a tuple of gradients
        shaped like w0, the first config (None for the defaults), and the names
        of the hyperparameters to read from the final config.
    Returns (the trajectory of w as a tuple of len(grads) + 1 NumPy arrays,
             {key: value in the final config}).
    """
    w, grads, config, keys = args
    config = None if config is None else dict(config)
    xp = array_namespace(w)
    path = [w]
    for dw in grads:
        w_before, dw_before = xp.asarray(w, copy=True), xp.asarray(dw, copy=True)
        out = rule(w, dw, config)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("the update rule must return the pair (next_w, config)")
        next_w, config = out
        if not (_same(w_before, w) and _same(dw_before, dw)):
            raise ValueError(IN_PLACE)
        try:
            same_library = array_namespace(next_w) is xp
        except TypeError:
            same_library = False
        if not same_library:
            raise TypeError(f"next_w is a {type(next_w).__module__}.{type(next_w).__name__}, not an array of "
                            f"the library of w ({type(w).__module__}); compute with xp = array_namespace(w, dw)")
        path.append(next_w)
        w = next_w
    final = {key: (config.get(key) if isinstance(config, dict) else None) for key in keys}
    return tuple(to_numpy(p) for p in path), final


def _describe(config: dict | None) -> str:
    if config is None:
        return "config=None (the defaults)"
    return ", ".join(f"{k}={v:g}" for k, v in config.items() if isinstance(v, float))


def rule_case(keys: tuple, shape: tuple, steps: int, config: dict | None, scale: float = 1.0,
              drift: float = 0.0, backend: str | None = None, state=None, label: str = "") -> Case:
    """A case of an update-rule check.

    The gradients are `drift + scale * N(0, 1)`: a drift makes them agree in
    sign from step to step, as on a slope, so momentum builds up.
    state: optional `state(rng, shape) -> dict` added to the first config
        (a rule resumed from a saved state).
    """
    where = f", on {backend}" if backend else ""
    name = f"{_describe(config)}, w of shape {shape}, {steps} steps{label}{where}"

    def make(rng):
        w0 = rng.standard_normal(shape)
        grads = tuple(drift + scale * rng.standard_normal(shape) for _ in range(steps))
        first = None if config is None else {**config, **(state(rng, shape) if state else {})}
        return w0, grads, first, keys

    return Case(name, make, backend=backend)


def _not_in_place(record: dict) -> bool:
    return IN_PLACE in record.get("error", "")


def _not_array_api(record: dict) -> bool:
    """An array_api_strict case failed on NumPy code: np.* on its arrays, .copy(), a NumPy result."""
    error = record.get("error", "")
    return STRICT in record.get("case", "") and ("Array" in error or STRICT in error)


def _first_step_not_finite(record: dict) -> bool:
    """The first step already produced NaN or infinity."""
    try:
        first = np.asarray(decode(record["output"])[0][1], dtype=float)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return not bool(np.all(np.isfinite(first)))


def _hyperparameter_missing(record: dict) -> bool:
    try:
        final = decode(record["output"])[1]
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(final, dict) and any(v is None for v in final.values())


WRITES_IN_PLACE = ("the rule writes into w or dw (e.g. `w -= ...` or `dw *= ...`), which changes the caller's "
                   "arrays: compute next_w as a new array (`next_w = w - ...`).")


def common_mistakes(in_place_variant) -> tuple:
    """The mistakes every update rule can make; `in_place_variant` is the rule written with `w -= ...`.

    The driver raises on an in-place write, so the diagnosis comes from `when`; the
    variant is what the visible self-checks are run against (`autograder.self_checks`).
    """
    return (Mistake(WRITES_IN_PLACE, variant=in_place_variant, when=_not_in_place),) + COMMON_MISTAKES


COMMON_MISTAKES = (
    Mistake("the rule does not run on array_api_strict arrays: get `xp = array_namespace(w, dw)` and use only "
            "xp functions (xp.sqrt, xp.zeros_like, ...), not np.* functions or methods such as .copy().",
            when=_not_array_api),
    Mistake("the final config lacks a hyperparameter: fill every default into the dict with "
            "config.setdefault(...) so that the caller can read them.", when=_hyperparameter_missing),
)


# --- SGD ----------------------------------------------------------------------------

SGD_KEYS = ("learning_rate",)


def sgd_uphill(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w + config["learning_rate"] * dw
    return next_w, config


def sgd_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


SGD_CASES = (
    rule_case(SGD_KEYS, (5,), 6, {"learning_rate": 0.1}),
    rule_case(SGD_KEYS, (4, 3), 5, {"learning_rate": 1e-3}, scale=10.0),
    rule_case(SGD_KEYS, (3,), 5, None),
    rule_case(SGD_KEYS, (2, 3), 5, {"learning_rate": 0.5}, backend=STRICT),
)


# --- SGD + momentum -----------------------------------------------------------------

MOMENTUM_KEYS = ("learning_rate", "momentum")


def momentum_sign_flipped(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    v = config.get("velocity", xp.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w - v
    return next_w, config


def momentum_forgets_velocity(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    v = config.get("velocity", xp.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    return next_w, config


def momentum_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    v = config["momentum"] * config.get("velocity", xp.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    w += v
    return w, config


def nesterov_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    rho = config["momentum"]
    v_prev = config.get("velocity", xp.zeros_like(w))
    v = rho * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    w += -rho * v_prev + (1 + rho) * v
    return w, config


MOMENTUM_CASES = (
    rule_case(MOMENTUM_KEYS, (5,), 8, {"learning_rate": 0.1, "momentum": 0.9}, drift=1.0),
    rule_case(MOMENTUM_KEYS, (4, 3), 6, {"learning_rate": 0.05, "momentum": 0.5}),
    rule_case(MOMENTUM_KEYS, (3,), 6, {"learning_rate": 1e-3, "momentum": 0.99}, scale=10.0, drift=5.0),
    rule_case(MOMENTUM_KEYS, (4,), 6, None, drift=1.0),
    rule_case(MOMENTUM_KEYS, (2, 2), 5, {"learning_rate": 0.1, "momentum": 0.9}, drift=0.5, backend=STRICT),
)

MOMENTUM_MISTAKES = (
    Mistake("a sign is flipped: the weights move uphill. With v = rho * v - lr * dw the step is w + v "
            "(or, in the other form, v = rho * v + dw and w - lr * v).", variant=momentum_sign_flipped),
    Mistake("the velocity is not saved in config, so every step starts from zero velocity (plain SGD): "
            "store it with config['velocity'] = v.", variant=momentum_forgets_velocity),
)


# --- Nesterov -----------------------------------------------------------------------

def nesterov_as_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    v = config.get("velocity", xp.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w + v
    return next_w, config


def nesterov_without_one_plus_rho(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    v_prev = config.get("velocity", xp.zeros_like(w))
    v = config["momentum"] * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    next_w = w - config["momentum"] * v_prev + v
    return next_w, config


NESTEROV_MISTAKES = (
    Mistake("this is plain momentum (w + v): Nesterov's step, rewritten at the current point, is "
            "w - rho * v_prev + (1 + rho) * v.", variant=nesterov_as_momentum),
    Mistake("the factor (1 + rho) on the new velocity is missing, which turns the rule into plain SGD: "
            "the step is w - rho * v_prev + (1 + rho) * v.", variant=nesterov_without_one_plus_rho),
)


# --- AdaGrad ------------------------------------------------------------------------

ADAGRAD_KEYS = ("learning_rate", "epsilon")


def adagrad_leaky(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("decay_rate", 0.99)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w))
    grad_squared = config["decay_rate"] * grad_squared + (1 - config["decay_rate"]) * dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(grad_squared) + config["epsilon"])
    return next_w, config


def adagrad_epsilon_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w)) + dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / xp.sqrt(grad_squared + config["epsilon"])
    return next_w, config


def adagrad_forgets_sum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w))
    grad_squared = grad_squared + dw * dw
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(grad_squared) + config["epsilon"])
    return next_w, config


def adagrad_without_epsilon(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w)) + dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / xp.sqrt(grad_squared)
    return next_w, config


def adagrad_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    config["grad_squared"] = config.get("grad_squared", xp.zeros_like(w)) + dw * dw
    w -= config["learning_rate"] * dw / (xp.sqrt(config["grad_squared"]) + config["epsilon"])
    return w, config


def saved_grad_squared(rng, shape):
    return {"grad_squared": rng.uniform(0.5, 2.0, size=shape)}


ADAGRAD_CASES = (
    rule_case(ADAGRAD_KEYS, (5,), 8, {"learning_rate": 0.1, "epsilon": 1e-8}),
    rule_case(ADAGRAD_KEYS, (4, 3), 6, {"learning_rate": 1.0, "epsilon": 1e-7}, scale=100.0),
    rule_case(ADAGRAD_KEYS, (6,), 6, {"learning_rate": 0.01, "epsilon": 1e-3}, scale=1e-2,
              label=", epsilon as large as the gradients"),
    rule_case(ADAGRAD_KEYS, (3,), 5, {"learning_rate": 0.1, "epsilon": 1e-8}, state=saved_grad_squared,
              label=", resumed from a saved grad_squared"),
    rule_case(ADAGRAD_KEYS, (3,), 5, None),
    rule_case(ADAGRAD_KEYS, (2, 3), 5, {"learning_rate": 0.1, "epsilon": 1e-8}, backend=STRICT),
)

ADAGRAD_MISTAKES = (
    Mistake("the sum of squared gradients leaks (decays): that is RMSProp. AdaGrad adds every dw * dw "
            "to grad_squared and never forgets.", variant=adagrad_leaky),
    Mistake("epsilon is inside the square root: divide by sqrt(grad_squared) + epsilon.",
            variant=adagrad_epsilon_inside),
    Mistake("grad_squared is not saved in config, so the sum restarts at every step: "
            "store it with config['grad_squared'] = grad_squared.", variant=adagrad_forgets_sum),
    Mistake("epsilon is missing: divide by sqrt(grad_squared) + epsilon (it matters when the gradients "
            "are as small as epsilon, and it avoids dividing by 0).", variant=adagrad_without_epsilon),
)


# --- RMSProp ------------------------------------------------------------------------

RMSPROP_KEYS = ("learning_rate", "decay_rate", "epsilon")


def rmsprop_without_one_minus_decay(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w))
    grad_squared = config["decay_rate"] * grad_squared + dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(grad_squared) + config["epsilon"])
    return next_w, config


def rmsprop_epsilon_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    decay = config["decay_rate"]
    grad_squared = decay * config.get("grad_squared", xp.zeros_like(w)) + (1 - decay) * dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / xp.sqrt(grad_squared + config["epsilon"])
    return next_w, config


def rmsprop_not_leaky(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    grad_squared = config.get("grad_squared", xp.zeros_like(w)) + dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / (xp.sqrt(grad_squared) + config["epsilon"])
    return next_w, config


def rmsprop_without_epsilon(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    decay = config["decay_rate"]
    grad_squared = decay * config.get("grad_squared", xp.zeros_like(w)) + (1 - decay) * dw * dw
    config["grad_squared"] = grad_squared
    next_w = w - config["learning_rate"] * dw / xp.sqrt(grad_squared)
    return next_w, config


def rmsprop_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    decay = config["decay_rate"]
    config["grad_squared"] = decay * config.get("grad_squared", xp.zeros_like(w)) + (1 - decay) * dw * dw
    w -= config["learning_rate"] * dw / (xp.sqrt(config["grad_squared"]) + config["epsilon"])
    return w, config


RMSPROP_CASES = (
    rule_case(RMSPROP_KEYS, (5,), 8, {"learning_rate": 0.01, "decay_rate": 0.99, "epsilon": 1e-8}),
    rule_case(RMSPROP_KEYS, (4, 3), 6, {"learning_rate": 0.1, "decay_rate": 0.5, "epsilon": 1e-8}, scale=10.0),
    rule_case(RMSPROP_KEYS, (6,), 6, {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-3}, scale=1e-2,
              label=", epsilon as large as the gradients"),
    rule_case(RMSPROP_KEYS, (3,), 5, None),
    rule_case(RMSPROP_KEYS, (2, 3), 5, {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-8},
              backend=STRICT),
)

RMSPROP_MISTAKES = (
    Mistake("the new squared gradient is not scaled by (1 - decay_rate): grad_squared = decay_rate * "
            "grad_squared + (1 - decay_rate) * dw * dw.", variant=rmsprop_without_one_minus_decay),
    Mistake("epsilon is inside the square root: divide by sqrt(grad_squared) + epsilon.",
            variant=rmsprop_epsilon_inside),
    Mistake("the squared gradients are summed without decay (that is AdaGrad): RMSProp keeps a leaky "
            "average, decay_rate * grad_squared + (1 - decay_rate) * dw * dw.", variant=rmsprop_not_leaky),
    Mistake("epsilon is missing: divide by sqrt(grad_squared) + epsilon (it matters when the gradients "
            "are as small as epsilon, and it avoids dividing by 0).", variant=rmsprop_without_epsilon),
)


# --- Adam ---------------------------------------------------------------------------

ADAM_KEYS = ("learning_rate", "beta1", "beta2", "epsilon")


def adam_no_bias_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    m = config.get("m", xp.zeros_like(w))
    v = config.get("v", xp.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw * dw
    config["m"], config["v"] = m, v
    next_w = w - config["learning_rate"] * m / (xp.sqrt(v) + config["epsilon"])
    return next_w, config


def adam_t_starts_at_one(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 1)
    xp = array_namespace(w, dw)
    m = config.get("m", xp.zeros_like(w))
    v = config.get("v", xp.zeros_like(w))
    config["t"] += 1
    t = config["t"]
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw * dw
    config["m"], config["v"] = m, v
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adam_epsilon_inside(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / xp.sqrt(v_hat + config["epsilon"])
    return next_w, config


def adam_epsilon_before_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    step_size = config["learning_rate"] * (1 - config["beta2"] ** t) ** 0.5 / (1 - config["beta1"] ** t)
    next_w = w - step_size * m / (xp.sqrt(v) + config["epsilon"])
    return next_w, config


def adam_without_epsilon(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / xp.sqrt(v_hat)
    return next_w, config


def adam_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    w -= config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return w, config


def saved_moments(rng, shape):
    return {"m": 0.1 * rng.standard_normal(shape), "v": rng.uniform(0.01, 0.1, size=shape), "t": 10}


ADAM_CASES = (
    rule_case(ADAM_KEYS, (5,), 8, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
              scale=3.0, drift=1.0),
    rule_case(ADAM_KEYS, (4, 3), 6, {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-8},
              scale=10.0, drift=2.0),
    rule_case(ADAM_KEYS, (6,), 6, {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-3},
              scale=1e-2, label=", epsilon as large as the gradients"),
    rule_case(ADAM_KEYS, (3,), 5, {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8},
              state=saved_moments, label=", resumed at t=10 from saved m and v"),
    rule_case(ADAM_KEYS, (3,), 6, None),
    rule_case(ADAM_KEYS, (2, 3), 5, {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8},
              scale=3.0, backend=STRICT),
)

T_AFTER_USE = Mistake(
    "the first step is not finite: with t = 0 the bias corrections 1 - beta**t are 0. Increment t before "
    "using it, so that the first step has t = 1.", when=_first_step_not_finite)

ADAM_MISTAKES = (
    Mistake("the moments are not bias-corrected: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
            "before the step.", variant=adam_no_bias_correction),
    T_AFTER_USE,
    Mistake("t starts at 1, so the first step uses t = 2: start t at 0 and increment it before use.",
            variant=adam_t_starts_at_one),
    Mistake("epsilon is inside the square root: divide by sqrt(v_hat) + epsilon.", variant=adam_epsilon_inside),
    Mistake("epsilon is added to sqrt(v) before the bias correction (the paper's 'efficient' form): in this "
            "course it is added to sqrt(v_hat), as PyTorch does.", variant=adam_epsilon_before_correction),
    Mistake("epsilon is missing: divide by sqrt(v_hat) + epsilon (it matters when the gradients are as "
            "small as epsilon, and it avoids dividing by 0).", variant=adam_without_epsilon),
)


# --- AdamW --------------------------------------------------------------------------

ADAMW_KEYS = ADAM_KEYS + ("weight_decay",)


def adamw_decay_in_gradient(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    xp = array_namespace(w, dw)
    dw = dw + config["weight_decay"] * w
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adamw_decay_after_step(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    next_w = next_w - config["learning_rate"] * config["weight_decay"] * next_w
    return next_w, config


def adamw_decay_without_learning_rate(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["weight_decay"] * w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adamw_no_bias_correction(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    xp = array_namespace(w, dw)
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=config.get("t", 0) + 1)
    lr = config["learning_rate"]
    next_w = w - lr * config["weight_decay"] * w - lr * m / (xp.sqrt(v) + config["epsilon"])
    return next_w, config


def adamw_t_starts_at_one(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    config.setdefault("t", 1)
    xp = array_namespace(w, dw)
    config["t"] += 1
    t = config["t"]
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    lr = config["learning_rate"]
    next_w = w - lr * config["weight_decay"] * w - lr * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adamw_in_place(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("weight_decay", 1e-2)
    xp = array_namespace(w, dw)
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", xp.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", xp.zeros_like(w)) + (1 - config["beta2"]) * dw * dw
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    lr = config["learning_rate"]
    w -= lr * config["weight_decay"] * w + lr * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    return w, config


ADAMW_CASES = (
    rule_case(ADAMW_KEYS, (5,), 8, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                                    "weight_decay": 1e-2}),
    rule_case(ADAMW_KEYS, (4, 3), 6, {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-8,
                                      "weight_decay": 0.5}, scale=10.0, drift=2.0),
    rule_case(ADAMW_KEYS, (6,), 6, {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8,
                                    "weight_decay": 2.0}, scale=1e-3, label=", decay stronger than the gradients"),
    rule_case(ADAMW_KEYS, (3,), 6, None),
    rule_case(ADAMW_KEYS, (2, 3), 5, {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.99, "epsilon": 1e-8,
                                      "weight_decay": 0.1}, backend=STRICT),
)

ADAMW_MISTAKES = (
    Mistake("the weight decay is added to the gradient, which is Adam with L2 regularization: AdamW decays "
            "the weights directly, w - learning_rate * weight_decay * w, outside the moments.",
            variant=adamw_decay_in_gradient),
    Mistake("the decay is applied to the weights after the Adam step: apply it to the pre-step weights, "
            "next_w = w - learning_rate * weight_decay * w - learning_rate * m_hat / (sqrt(v_hat) + epsilon).",
            variant=adamw_decay_after_step),
    Mistake("the decay is not multiplied by the learning rate: in this course (and PyTorch) the decay is "
            "w - learning_rate * weight_decay * w.", variant=adamw_decay_without_learning_rate),
    Mistake("the moments are not bias-corrected: divide m by (1 - beta1**t) and v by (1 - beta2**t) "
            "before the step.", variant=adamw_no_bias_correction),
    T_AFTER_USE,
    Mistake("t starts at 1, so the first step uses t = 2: start t at 0 and increment it before use.",
            variant=adamw_t_starts_at_one),
)


# --- gradient_descent ---------------------------------------------------------------

def spec_sgd(w, dw, config=None):
    """The rules the gradient_descent cases hand to the student's function."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 0.05)
    return w - config["learning_rate"] * dw, config


def spec_momentum_functional(w, dw, config=None):
    """Momentum that returns a new config dict instead of updating the one it got (allowed by the API)."""
    config = dict(config or {})
    config.setdefault("learning_rate", 0.05)
    config.setdefault("momentum", 0.9)
    velocity = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    return w + velocity, {**config, "velocity": velocity}


def quadratic_case(dim: int, rule, config, num_steps: int, label: str) -> Case:
    """gradient_descent on f(x) = 0.5 x^T A x - b^T x with a random positive definite A."""
    def make(rng):
        M = rng.standard_normal((dim, dim))
        A = M @ M.T / dim + np.eye(dim)
        b = rng.standard_normal(dim)
        return (lambda x: A @ x - b), rng.standard_normal(dim), rule, config, num_steps
    return Case(f"{label}, {dim}-D quadratic, {num_steps} steps", make)


def lecture_case(rule, config, num_steps: int, label: str) -> Case:
    def make(rng):
        def grad(p):
            x, y = p[0], p[1]
            return np.array([10 * x + 8 * y - 34, 8 * x + 10 * y - 38])
        return grad, np.array([-4.0, 0.0]), rule, config, num_steps
    return Case(f"{label}, the lecture's function from (-4, 0), {num_steps} steps", make)


def descent(fn, args):
    """Runner of the gradient_descent check: the trajectory, shape (num_steps + 1, dim)."""
    grad_fn, x0, rule, config, num_steps = args
    return fn(grad_fn, x0, rule, None if config is None else dict(config), num_steps)


def gd_drops_start(grad_fn, x0, rule, config, num_steps):
    x = x0
    path = []
    for _ in range(num_steps):
        x, config = rule(x, grad_fn(x), config)
        path.append(x)
    return np.array(path)


def gd_ignores_returned_config(grad_fn, x0, rule, config, num_steps):
    x = x0
    path = [x0]
    for _ in range(num_steps):
        x, _ = rule(x, grad_fn(x), config)
        path.append(x)
    return np.stack(path)


def gd_gradient_at_start(grad_fn, x0, rule, config, num_steps):
    x = x0
    path = [x0]
    g = grad_fn(x0)
    for _ in range(num_steps):
        x, config = rule(x, g, config)
        path.append(x)
    return np.stack(path)


def gd_writes_into_x0(grad_fn, x0, rule, config, num_steps):
    x = x0
    path = [x]
    for _ in range(num_steps):
        next_x, config = rule(x, grad_fn(x), config)
        x[:] = next_x
        path.append(x)
    return np.stack(path)


DESCENT_CASES = (
    lecture_case(spec_sgd, {"learning_rate": 0.1}, 6, "SGD with learning_rate=0.1"),
    quadratic_case(3, spec_sgd, {"learning_rate": 0.2}, 8, "SGD with learning_rate=0.2"),
    quadratic_case(2, spec_momentum_functional, {"learning_rate": 0.05, "momentum": 0.9}, 10,
                   "momentum that returns a new config dict"),
    quadratic_case(4, spec_sgd, None, 5, "SGD with config=None"),
    quadratic_case(2, spec_sgd, {"learning_rate": 0.1}, 0, "no steps at all"),
)

DESCENT_MISTAKES = (
    Mistake("the trajectory does not start with x0: it has num_steps + 1 rows, the starting point first.",
            variant=gd_drops_start),
    Mistake("the config returned by the rule is ignored: pass it to the next step "
            "(x, config = rule(x, grad_fn(x), config)); a rule may return a new dict.",
            variant=gd_ignores_returned_config),
    Mistake("the gradient is computed once at x0: evaluate grad_fn at the current point at every step.",
            variant=gd_gradient_at_start),
    Mistake("x0 was changed in place, so the trajectory's points are all the same array: let the rule "
            "return new arrays and never write into x.", variant=gd_writes_into_x0,
            when=lambda record: bool(record.get("mutated"))),
)


# --- autograded answers: one case per key of the student's dictionary ---------------

LR_FACT_KEYS = ("largest_eigenvalue", "smallest_eigenvalue", "critical_learning_rate",
                "factor_at_0.11", "factor_at_0.12", "slow_factor_at_0.01")

TABLE_ROWS = ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam")


CHECKS = [
    Check("sgd", SGD_CASES, run=drive, mistakes=common_mistakes(sgd_in_place) + (
        Mistake("the step goes uphill: subtract learning_rate * dw.", variant=sgd_uphill),
    )),
    Check("gradient_descent", DESCENT_CASES, run=descent, mistakes=DESCENT_MISTAKES),
    Check("lr_facts", tuple(answer_case(k) for k in LR_FACT_KEYS), run=look_up_answer, is_value=True, rtol=1e-3, mistakes=(
        Mistake("1/18 is the rate that removes the error along the steepest direction in one step; gradient "
                "descent still converges up to 2/18, where the factor 1 - lr * 18 reaches -1.",
                variant={"critical_learning_rate": 1 / 18}),
        Mistake("the factor is 1 - lr * lambda = 1 - 0.11 * 18 = -0.98: negative, so the iterate jumps "
                "across the valley at every step (oscillation), shrinking only slowly.",
                variant={"factor_at_0.11": 0.98}),
        Mistake("the Hessian of (x + 2y - 7)**2 + (2x + y - 5)**2 is [[10, 8], [8, 10]] (each square "
                "contributes 2 a a^T): its eigenvalues are 18 and 2.", variant={"largest_eigenvalue": 9.0}),
    )),
    Check("sgd_momentum", MOMENTUM_CASES, run=drive,
          mistakes=common_mistakes(momentum_in_place) + MOMENTUM_MISTAKES),
    Check("nesterov", MOMENTUM_CASES, run=drive, mistakes=common_mistakes(nesterov_in_place) + NESTEROV_MISTAKES),
    Check("adagrad", ADAGRAD_CASES, run=drive, mistakes=common_mistakes(adagrad_in_place) + ADAGRAD_MISTAKES),
    Check("rmsprop", RMSPROP_CASES, run=drive, mistakes=common_mistakes(rmsprop_in_place) + RMSPROP_MISTAKES),
    Check("adam", ADAM_CASES, run=drive, mistakes=common_mistakes(adam_in_place) + ADAM_MISTAKES),
    Check("adamw", ADAMW_CASES, run=drive, mistakes=common_mistakes(adamw_in_place) + ADAMW_MISTAKES),
    Check("optimizer_table", tuple(answer_case(k) for k in TABLE_ROWS), run=look_up_answer, is_value=True, mistakes=(
        Mistake("AdaGrad's sum of squared gradients is not leaky (it never forgets); RMSProp's is.",
                variant={"adagrad": (False, True, True, False)}),
        Mistake("Nesterov momentum tracks first moments (a velocity), like SGD + momentum.",
                variant={"nesterov": (False, False, False, False)}),
        Mistake("Adam tracks both moments, with a leaky second moment and bias correction: all four columns.",
                variant={"adam": (True, True, True, False)}),
    )),
]


# --- sample submissions (autograder/samples/03_optimizers/) --------------------------
# Each is the reference with these definitions replaced, as a student would have written them.

MOMENTUM_OTHER_FORM = """
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    # the lecture's second form: v accumulates gradients, the learning rate scales the step
    v = config["momentum"] * config.get("velocity", xp.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config
"""

NESTEROV_TORCH_FORM = """
def nesterov(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    xp = array_namespace(w, dw)
    rho = config["momentum"]
    buf = rho * config.get("velocity", xp.zeros_like(w)) + dw
    config["velocity"] = buf
    return w - config["learning_rate"] * (dw + rho * buf), config
"""

SGD_IN_PLACE = """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config
"""

MOMENTUM_IN_PLACE = """
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", 0 * w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    w += v
    return w, config
"""

RMSPROP_NUMPY = """
def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    grad_squared = config.get("grad_squared", np.zeros_like(w))
    grad_squared = config["decay_rate"] * grad_squared + (1 - config["decay_rate"]) * dw**2
    config["grad_squared"] = grad_squared
    return w - config["learning_rate"] * dw / (np.sqrt(grad_squared) + config["epsilon"]), config
"""

ADAM_NUMPY = """
def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw**2
    config["m"], config["v"], config["t"] = m, v, t
    m_hat = m / (1 - config["beta1"]**t)
    v_hat = v / (1 - config["beta2"]**t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config
"""

ADAM_T_AFTER_USE = """
def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    xp = array_namespace(w, dw)
    m = config.get("m", xp.zeros_like(w))
    v = config.get("v", xp.zeros_like(w))
    t = config["t"]
    m = config["beta1"] * m + (1 - config["beta1"]) * dw
    v = config["beta2"] * v + (1 - config["beta2"]) * dw * dw
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (xp.sqrt(v_hat) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t + 1
    return next_w, config
"""

SAMPLES = {
    "other_momentum_forms": {"sgd_momentum": MOMENTUM_OTHER_FORM, "nesterov": NESTEROV_TORCH_FORM},
    "adam_no_bias_correction": {"adam": adam_no_bias_correction, "adamw": adamw_no_bias_correction},
    "adam_step_count": {"adam": ADAM_T_AFTER_USE, "adamw": adamw_t_starts_at_one},
    "epsilon_inside_sqrt": {"adagrad": adagrad_epsilon_inside, "rmsprop": rmsprop_epsilon_inside,
                            "adam": adam_epsilon_inside},
    "adamw_is_adam_l2": {"adamw": adamw_decay_in_gradient},
    "adamw_decay_after_step": {"adamw": adamw_decay_after_step},
    "squared_gradient_sums": {"rmsprop": rmsprop_without_one_minus_decay, "adagrad": adagrad_leaky},
    "momentum_mistakes": {"sgd_momentum": momentum_sign_flipped, "nesterov": nesterov_as_momentum},
    "updates_in_place": {"sgd": SGD_IN_PLACE, "sgd_momentum": MOMENTUM_IN_PLACE},
    "numpy_only": {"rmsprop": RMSPROP_NUMPY, "adam": ADAM_NUMPY},
    "half_done": {
        "adamw": "def adamw(w, dw, config=None):\n    raise NotImplementedError()",
        "gradient_descent": gd_drops_start,
        "optimizer_table": """
            optimizer_table = {
                "sgd": (False, False, False, False),
                "sgd_momentum": (True, False, False, False),
                "nesterov": (True, False, False, False),
                "adagrad": (False, True, True, False),
                "rmsprop": (False, True, True, False),
                "adam": (True, True, True, True),
            }
        """,
        "lr_facts": """
            lr_facts = {
                "largest_eigenvalue": 18.0,
                "smallest_eigenvalue": 2.0,
                "critical_learning_rate": 1 / 18,
                "factor_at_0.11": -0.98,
                "factor_at_0.12": -1.16,
                "slow_factor_at_0.01": 0.98,
            }
        """,
    },
}
