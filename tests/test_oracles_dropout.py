"""05_dropout: the reference dropout against torch.nn.functional.dropout, the binomial bounds, and the
stability of the hidden tests' probes over 200 seeds.

The probes (autograder/specs/dropout.py) judge a random function by statistics with tolerances of
K_SD binomial standard deviations. Here the reference passes every case for 200 seeds of the inputs
and of the generator (no flakes), and every known mistake fails exactly the same cases for all 200
seeds, diagnosed on the same cases (and on at least one).
"""
import math

import array_api_strict
import numpy as np
import pytest

from autograder import harness
from autograder.reference import load_reference
from autograder.specs import dropout as spec
from torch_oracle import needs_torch, torch

ref = load_reference("05_dropout")
FORWARD_VARIANTS = [(m, m.variant) for m in spec.FORWARD_MISTAKES if m.variant is not None]
BACKWARD_VARIANTS = [(m, m.variant) for m in spec.BACKWARD_MISTAKES if m.variant is not None]


def record(run, fn, case, args) -> dict:
    """What the harness records for one case, for any seed of its inputs."""
    try:
        with np.errstate(all="ignore"):  # as in the harness: p as the keep probability divides 0 by 0 at p = 0
            return {"case": case.name, "output": run(fn, args)}
    except Exception as exc:  # noqa: BLE001 - a failed probe is a result
        return {"case": case.name, "error": harness._error_line(exc)}


def args_for(case, seed):
    """The case's arguments drawn from another seed, converted to its backend as the harness does."""
    args = tuple(case.make(np.random.default_rng(seed)))
    return args if case.backend is None else harness._to_backend(args, array_api_strict)


def torch_dropout_forward(x, p, mode, rng):
    """torch.nn.functional.dropout as a submission: torch's global generator seeded from rng, so that the
    same rng seed gives the same mask."""
    if mode == "test":
        return x, None
    torch.manual_seed(int(rng.integers(2**62)))
    return torch.nn.functional.dropout(torch.from_numpy(np.asarray(x)), p=p, training=True).numpy(), None


@needs_torch
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_torch_dropout_drops_with_probability_p_and_scales_like_the_reference(p):
    """torch's p is the drop probability and its kept entries are x / (1 - p): the reference's convention."""
    torch.manual_seed(0)
    x = torch.full((400, 500), 2.0, dtype=torch.float64)
    out = torch.nn.functional.dropout(x, p=p, training=True).numpy()
    n = out.size
    assert abs((out != 0).mean() - (1 - p)) <= 6 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(np.unique(out[out != 0]), [2.0 / (1 - p)], rtol=1e-15)
    ours, _ = ref.dropout_forward(x.numpy(), p, "train", np.random.default_rng(0))
    np.testing.assert_allclose(np.unique(ours[ours != 0]), np.unique(out[out != 0]), rtol=1e-15)
    assert torch.equal(torch.nn.functional.dropout(x, p=p, training=False), x)


@needs_torch
def test_torch_dropout_passes_the_hidden_forward_probes():
    for case in spec.FORWARD_CASES:
        if case.backend is None:
            args = args_for(case, 0)
            assert spec.probe_forward(torch_dropout_forward, args) is True, case.name


@needs_torch
@pytest.mark.parametrize("p", [0.2, 0.6])
def test_backward_equals_torch_autograd_through_the_same_mask(p):
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    out, cache = ref.dropout_forward(x, p, "train", np.random.default_rng(9))
    mask = torch.from_numpy((out != 0).astype(np.float64))
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    (t * mask / (1 - p) * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(ref.dropout_backward(dout, cache), t.grad.numpy(), rtol=1e-14, atol=0)


def test_the_lecture_expectation_argument():
    """a = w1 x + w2 y with both inputs dropped with probability 1/2: E[a] = (w1 x + w2 y) / 2 without
    rescaling, and exactly w1 x + w2 y with inverted dropout (the mean over the four equally likely masks)."""
    w, inputs = np.array([0.7, -1.3]), np.array([2.0, 5.0])
    masks = [np.array(m, dtype=float) for m in ((1, 1), (1, 0), (0, 1), (0, 0))]
    vanilla = np.mean([w @ (m * inputs) for m in masks])
    inverted = np.mean([w @ (m * inputs / 0.5) for m in masks])
    assert vanilla == pytest.approx(0.5 * w @ inputs, rel=1e-15)
    assert inverted == pytest.approx(w @ inputs, rel=1e-15)


def test_binomial_tolerance_is_the_documented_formula():
    """6 standard deviations of Binomial(n, q) / n; the p-as-keep mistake lies 212 of them away at p = 0.2 (n = 20,000)."""
    n, p = 20_000, 0.2
    kept = np.zeros(n, dtype=bool)
    kept[: int(round(n * (1 - p) + 6 * math.sqrt(p * (1 - p) * n)))] = True   # just inside the bound
    assert spec.kept_fraction_class(kept, p) == "1 - p"
    kept[: int(round(n * (1 - p) + 6 * math.sqrt(p * (1 - p) * n))) + 2] = True  # just outside
    assert spec.kept_fraction_class(kept, p) == "other"
    assert abs((1 - p) - p) / math.sqrt(p * (1 - p) / n) == pytest.approx(212.13, abs=0.01)


def test_reference_forward_statistics_match_the_binomial_distribution():
    """Over 200 seeds the kept fraction has the binomial mean and standard deviation (within sampling error)."""
    p, shape = 0.3, (100, 200)
    x = np.ones(shape)
    fractions = np.array([np.mean(ref.dropout_forward(x, p, "train", np.random.default_rng(s))[0] != 0)
                          for s in range(200)])
    sd = math.sqrt(p * (1 - p) / x.size)
    assert abs(fractions.mean() - (1 - p)) < 4 * sd / math.sqrt(200)
    assert 0.8 < fractions.std(ddof=1) / sd < 1.2


def _stability(check_run, cases, variants, seeds):
    failures = []
    for case in cases:
        canonical = {name: record(check_run, fn, case, args_for(case, 10_000)) for name, fn in
                     [("reference", ref_fn(check_run))] + [(m.message, v) for m, v in variants]}
        assert "output" in canonical["reference"], (case.name, canonical["reference"])
        for seed in seeds:
            args = args_for(case, seed)
            got = record(check_run, ref_fn(check_run), case, args)
            if "output" not in got:
                failures.append(("reference", case.name, seed, got["error"]))
            for mistake, variant in variants:
                wrong = record(check_run, variant, case, args)
                caught = "error" in wrong
                if caught != ("error" in canonical[mistake.message]):
                    failures.append((variant.__name__, case.name, seed, "caught on some seeds only"))
                elif caught and mistake.when(wrong) != mistake.when(canonical[mistake.message]):
                    failures.append((variant.__name__, case.name, seed, f"diagnosed on some seeds only: {wrong}"))
    return failures


def ref_fn(run):
    return ref.dropout_forward if run is spec.probe_forward else ref.dropout_backward


@pytest.mark.parametrize("seeds", [pytest.param(range(20), id="20 seeds"),
                                   pytest.param(range(200), id="200 seeds", marks=pytest.mark.slow)])
def test_forward_probes_are_stable_over_seeds(seeds):
    assert _stability(spec.probe_forward, spec.FORWARD_CASES, FORWARD_VARIANTS, seeds) == []


@pytest.mark.parametrize("seeds", [pytest.param(range(20), id="20 seeds"),
                                   pytest.param(range(200), id="200 seeds", marks=pytest.mark.slow)])
def test_backward_probes_are_stable_over_seeds(seeds):
    assert _stability(spec.probe_backward, spec.BACKWARD_CASES, BACKWARD_VARIANTS, seeds) == []


def test_every_variant_is_caught_somewhere():
    for run, cases, variants in ((spec.probe_forward, spec.FORWARD_CASES, FORWARD_VARIANTS),
                                 (spec.probe_backward, spec.BACKWARD_CASES, BACKWARD_VARIANTS)):
        for mistake, variant in variants:
            records = [record(run, variant, c, args_for(c, 10_000)) for c in cases]
            assert any("error" in r and mistake.when(r) for r in records), variant.__name__
