"""03_optimizers: what the hidden tests of the update rules catch, beyond the known-mistake variants.

The update-rule checks drive a rule for several steps; these tests pin down the
behaviours the driver itself must notice (in-place updates, NumPy code on
array_api_strict arrays, a NaN first step, defaults left out of the config) and
that both lecture forms of momentum get full marks.
"""
import numpy as np
import pytest

from autograder import harness
from autograder.reference import load_reference
from autograder.scoring import score_results
from autograder.specs import load_spec

A = "03_optimizers"
ref = load_reference(A)
RULES = ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def score(name, fn, points=4.0):
    return score_results(A, name, harness.collect(A, name, fn), points)


@pytest.mark.parametrize("name", RULES)
def test_every_rule_is_tested_on_several_steps_shapes_and_settings(name):
    check = load_spec(A)[name]
    assert len(check.cases) >= 4
    assert sum(c.backend == "array_api_strict" for c in check.cases) >= 1
    shapes, configs = set(), set()
    for case in check.cases:
        w0, grads, config, _ = case.make(np.random.default_rng(0))
        assert len(grads) >= 5
        shapes.add(w0.shape)
        configs.add(repr(config))
    assert len(shapes) >= 3 and len(configs) >= 4 and "None" in configs


@pytest.mark.parametrize("name", RULES)
def test_writing_into_w_fails_every_case_and_says_so(name):
    reference = getattr(ref, name)

    def in_place(w, dw, config=None):
        next_w, config = reference(w, dw, config)
        w[...] = next_w   # the classic `w -= ...`
        return w, config

    outcome = score(name, in_place)
    assert outcome.score == 0
    assert all("in place" in c.detail for c in outcome.cases)
    assert any("writes into w or dw" in d for d in outcome.diagnoses)


def test_writing_into_dw_is_caught_too():
    def scales_dw(w, dw, config=None):
        config = config or {}
        config.setdefault("learning_rate", 1e-2)
        dw *= config["learning_rate"]
        return w - dw, config

    outcome = score("sgd", scales_dw)
    assert outcome.score == 0 and any("writes into w or dw" in d for d in outcome.diagnoses)


def test_numpy_only_code_fails_only_the_array_api_strict_cases():
    pytest.importorskip("array_api_strict")

    def rmsprop_numpy(w, dw, config=None):
        config = config or {}
        for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
            config.setdefault(key, value)
        cache = config.get("grad_squared", np.zeros_like(w))
        cache = config["decay_rate"] * cache + (1 - config["decay_rate"]) * dw ** 2
        config["grad_squared"] = cache
        return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config

    outcome = score("rmsprop", rmsprop_numpy)
    failed = [c for c in outcome.cases if not c.passed]
    assert failed and all("array_api_strict" in c.name for c in failed)
    assert any("array_api_strict" in d and "array_namespace" in d for d in outcome.diagnoses)


def test_returning_numpy_for_array_api_strict_inputs_is_not_enough():
    pytest.importorskip("array_api_strict")

    def converts(w, dw, config=None):
        return ref.sgd(np.asarray(w), np.asarray(dw), config)

    outcome = score("sgd", converts)
    failed = [c for c in outcome.cases if not c.passed]
    assert [c.name for c in failed] == [c.name for c in load_spec(A)["sgd"].cases if c.backend]
    assert "not an array of the library of w" in failed[0].detail


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_t_used_before_it_is_incremented_is_diagnosed_from_the_nan_first_step(name):
    reference = getattr(ref, name)

    def t_after_use(w, dw, config=None):
        config = {} if config is None else config
        t = config.get("t", 0)
        next_w, config = reference(w, dw, {**config, "t": t - 1})   # the step uses t, not t + 1
        config["t"] = t + 1
        return next_w, config

    outcome = score(name, t_after_use)
    assert outcome.score < 4.0
    assert any("first step is not finite" in d for d in outcome.diagnoses)


def test_defaults_not_written_into_the_config_are_diagnosed():
    def sgd_get(w, dw, config=None):
        config = {} if config is None else config
        return w - config.get("learning_rate", 1e-2) * dw, config

    outcome = score("sgd", sgd_get)
    failed = [c for c in outcome.cases if not c.passed]
    assert [c.name for c in failed] == ["config=None (the defaults), w of shape (3,), 5 steps"]
    assert any("setdefault" in d for d in outcome.diagnoses)


def test_a_rule_must_return_the_pair():
    outcome = score("sgd", lambda w, dw, config=None: w - 0.01 * dw)
    assert outcome.score == 0 and "(next_w, config)" in outcome.cases[0].detail


def test_both_lecture_forms_of_momentum_and_torchs_nesterov_get_full_marks():
    from array_api_compat import array_namespace

    def momentum_form_2(w, dw, config=None):
        config = {} if config is None else config
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        v = config["momentum"] * config.get("velocity", array_namespace(w).zeros_like(w)) + dw
        config["velocity"] = v
        return w - config["learning_rate"] * v, config

    def nesterov_torch_form(w, dw, config=None):
        config = {} if config is None else config
        config.setdefault("learning_rate", 1e-2)
        config.setdefault("momentum", 0.9)
        buf = config["momentum"] * config.get("velocity", array_namespace(w).zeros_like(w)) + dw
        config["velocity"] = buf
        return w - config["learning_rate"] * (dw + config["momentum"] * buf), config

    assert score("sgd_momentum", momentum_form_2).score == 4.0
    assert score("nesterov", nesterov_torch_form).score == 4.0


def test_gradient_descent_that_writes_into_x0_is_diagnosed():
    def in_place_descent(grad_fn, x0, rule, config, num_steps):
        path = [x0.copy()]
        for _ in range(num_steps):
            x0 -= 0.05 * grad_fn(x0)
            path.append(x0.copy())
        return np.stack(path)

    outcome = score("gradient_descent", in_place_descent)
    assert outcome.score < 4.0
    assert any("x0 was changed in place" in d for d in outcome.diagnoses)
