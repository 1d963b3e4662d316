"""Hidden tests of 05_dropout: cases and known mistakes of every graded function.

The references are the master notebook's (`solutions/05_dropout/dropout.ipynb`).

Dropout draws random numbers, so a correct `dropout_forward` may keep other
entries than the reference (`rng.random(shape) >= p`, `rng.random(shape) < 1 - p`
and `rng.binomial(1, 1 - p, shape)` are all right). Its cases are therefore
*probes*, as in 02_gradients: the runner observes what the function does and
returns True, as it does for the reference, or raises an AssertionError that
lists, in words, what a correct inverted dropout would not have done. Each
problem carries a tag in parentheses, from which the known mistakes are
diagnosed (`when`). What is observed:

- the kept fraction. The number of kept entries of an array of n entries is
  Binomial(n, q) for a keep probability q, so the kept fraction has mean q and
  standard deviation sd(q) = sqrt(q (1 - q) / n); it must lie within K_SD = 6
  standard deviations of 1 - p. A correct implementation falls outside with
  probability P(|Z| > 6) ~ 2e-9 per case (normal approximation, n >= 20,000
  here); a keep probability of p instead of 1 - p is |1 - 2p| / sd away, 212 sd
  for p = 0.2 and n = 20,000, and is tagged "(a fraction p)".
- the scale of the kept entries, out / x: exactly 1 / (1 - p) in training and 1
  in test mode (no randomness; "(not rescaled)", "(scaled by 1 - p)").
- the mean: out_i = x_i m_i / (1 - p) with m_i ~ Bernoulli(1 - p), so mean(out)
  has mean mean(x) and standard deviation sqrt(p / (1 - p) * sum(x**2)) / n; it
  must lie within K_SD of mean(x).
- reproducibility: generators of the same seed give the same output
  ("(mask not from rng)"), of another seed another one, and the rows are not
  all dropped alike ("(one mask shared").
- the dtype and the array library of x kept ("(dtype changed)").

`dropout_backward` is tested on the cache of the submission's own
`dropout_forward` (any cache layout is right): in training mode dx must equal
dout * out / x exactly (up to rounding) where the forward pass kept an entry, be
0 where it dropped one, and not change when called twice on the same cache; in
test mode dx is dout.

`tests/test_oracles_dropout.py` runs every case with 200 seeds: the reference
always passes (no flakes), and every wrong variant is always caught on the same
cases and diagnosed.
"""
from __future__ import annotations

import math

import numpy as np
from array_api_compat import array_namespace

from autograder.spec import Case, Check, Mistake, answer_case, look_up_answer, to_numpy

ASSIGNMENT = "05_dropout"
STRICT = "array_api_strict"
K_SD = 6.0  # tolerance of the statistical observations, in binomial standard deviations

X_IN_PLACE = "dropout_forward changed x in place; return a new array (out = x * mask ...)"
DOUT_IN_PLACE = "dropout_backward changed dout in place; return a new array"


# --- running the student's functions ------------------------------------------------

def _same_library(out, x) -> bool:
    try:
        return array_namespace(out) is array_namespace(x)
    except TypeError:
        return False


def _forward(fn, x, p, mode, seed, in_place_fails: bool = True):
    """One call of a dropout_forward on a copy of x; checks the result's form (and that x stayed unchanged)."""
    xp = array_namespace(x)
    x_copy = xp.asarray(x, copy=True)
    result = fn(x_copy, p, mode, np.random.default_rng(seed))
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError("dropout_forward must return the pair (out, cache)")
    out, cache = result
    if in_place_fails and not np.array_equal(to_numpy(x_copy), to_numpy(x)):
        raise ValueError(X_IN_PLACE)
    if not _same_library(out, x):
        raise TypeError(f"out is a {type(out).__module__}.{type(out).__name__}, not an array of the library of x "
                        f"({type(x).__module__}); compute with xp = array_namespace(x) and convert the mask with "
                        "xp.asarray")
    if tuple(out.shape) != tuple(x.shape):
        raise ValueError(f"out has shape {tuple(out.shape)}, x has shape {tuple(x.shape)}")
    return out, cache


def kept_fraction_class(kept: np.ndarray, p: float) -> str:
    """'all', '1 - p', 'p' or 'other': which keep probability the kept fraction is consistent with."""
    n, fraction = kept.size, float(np.mean(kept))
    if fraction == 1.0:
        return "all"
    for label, q in (("1 - p", 1.0 - p), ("p", p)):
        if 0.0 < q < 1.0 and abs(fraction - q) <= K_SD * math.sqrt(q * (1.0 - q) / n):
            return label
    return "other"


def mean_preserved(x: np.ndarray, out: np.ndarray, p: float) -> bool:
    """mean(out) within K_SD standard deviations of mean(x); sd = sqrt(p / (1 - p) * sum(x**2)) / n."""
    x64, out64 = x.astype(np.float64), out.astype(np.float64)
    sd = math.sqrt(p / (1.0 - p) * float(np.sum(x64 ** 2))) / x64.size
    return bool(abs(float(np.mean(out64)) - float(np.mean(x64))) <= K_SD * sd + 1e-12 * float(np.mean(np.abs(x64))))


def _close(value: float, target: float) -> bool:
    return abs(value - target) <= 1e-5 * abs(target)


def observe_forward(fn, args) -> dict:
    """Runs dropout_forward three times (seed, seed again, another seed) and returns what it saw."""
    x, p, mode, seed = args
    out, _ = _forward(fn, x, p, mode, seed)
    again, _ = _forward(fn, x, p, mode, seed)
    other, _ = _forward(fn, x, p, mode, seed + 1)
    x_np, out_np = to_numpy(x), to_numpy(out)
    kept = out_np != 0
    ratios = out_np[kept].astype(np.float64) / x_np[kept].astype(np.float64)
    rows = kept.reshape(kept.shape[0], -1)
    return {
        "fraction kept": float(np.mean(kept)),
        "fraction class": kept_fraction_class(kept, p),
        "scale": (float(np.min(ratios)), float(np.max(ratios))) if ratios.size else None,
        "mean preserved": mean_preserved(x_np, out_np, p),
        "same seed, same out": bool(np.array_equal(out_np, to_numpy(again), equal_nan=True)),
        "another seed, another out": not bool(np.array_equal(out_np, to_numpy(other), equal_nan=True)),
        "rows dropped differently": bool(np.any(rows != rows[:1])),
        "dtypes": (str(x_np.dtype), str(out_np.dtype)),
    }


def forward_problems(obs: dict, p: float, mode: str, n: int) -> list[str]:
    """What a correct inverted dropout would not have done, in words (each with a tag the mistakes look for)."""
    problems = []
    train = mode == "train"
    if train and obs["fraction class"] not in ("1 - p", "all" if p == 0 else "1 - p"):
        tol = K_SD * math.sqrt(p * (1 - p) / n)
        tag = {"p": " (a fraction p)", "all": " (nothing dropped)"}.get(obs["fraction class"], "")
        problems.append(f"kept {obs['fraction kept']:.1%} of the entries{tag}, expected 1 - p = {1 - p:.0%} "
                        f"(+-{tol:.2%}, {K_SD:g} binomial standard deviations)")
    if not train and obs["fraction class"] != "all":
        problems.append(f"dropped {1 - obs['fraction kept']:.1%} of the entries in test mode, where nothing is "
                        "dropped")
    target = 1 / (1 - p) if train else 1.0
    scale = obs["scale"]
    if scale is None:
        problems.append("out is 0 everywhere")
    elif not (_close(scale[0], target) and _close(scale[1], target)):
        if train and p > 0 and _close(scale[0], 1.0) and _close(scale[1], 1.0):
            tag = " (not rescaled)"
        elif not train and _close(scale[0], 1 - p) and _close(scale[1], 1 - p):
            tag = " (scaled by 1 - p)"
        else:
            tag = ""
        where = "the kept entries of out are" if train else "test mode returns"
        expected = f"x / (1 - p) = {target:.4g} x" if train else "x unchanged"
        problems.append(f"{where} {scale[0]:.4g} x to {scale[1]:.4g} x{tag}, expected {expected}")
    if not obs["mean preserved"]:
        problems.append("the mean of out is not the mean of x (within 6 standard deviations): the expectation is "
                        "not preserved")
    if not obs["same seed, same out"]:
        problems.append("two calls with generators of the same seed gave different outputs (mask not from rng)")
    if train and 0 < p and not obs["another seed, another out"]:
        problems.append("generators of different seeds gave the same output")
    if train and 0 < p and obs["fraction class"] != "all" and not obs["rows dropped differently"]:
        problems.append("every row was dropped alike (one mask shared by all rows)")
    if obs["dtypes"][0] != obs["dtypes"][1]:
        problems.append(f"x has dtype {obs['dtypes'][0]}, out has dtype {obs['dtypes'][1]} (dtype changed)")
    return problems


def probe_forward(fn, args) -> bool:
    """True when dropout_forward behaves as inverted dropout on this case, else an AssertionError saying how not."""
    x, p, mode, _ = args
    problems = forward_problems(observe_forward(fn, args), p, mode, int(np.prod(x.shape)))
    if problems:
        raise AssertionError("; ".join(problems))
    return True


def _paired_forward(fn):
    """The dropout_forward whose cache `fn` (a dropout_backward) receives: the one defined beside it."""
    forward = getattr(fn, "paired_forward", None)  # the known mistakes below carry theirs
    if forward is None:
        forward = getattr(fn, "__globals__", {}).get("dropout_forward")
    if forward is None:
        raise NameError("dropout_backward is tested on the cache of your dropout_forward, which is not defined")
    return forward


def observe_backward(fn, args) -> dict:
    """Runs the submission's forward pass, then fn (its dropout_backward) twice on the same cache."""
    x, dout, p, mode, seed = args
    try:
        out, cache = _forward(_paired_forward(fn), x, p, mode, seed, in_place_fails=False)
    except Exception as err:  # noqa: BLE001 - say that the forward pass failed, not the backward pass
        raise RuntimeError(f"your dropout_forward, whose cache dropout_backward receives, raised "
                           f"{type(err).__name__}: {str(err)[:200]}") from None
    xp = array_namespace(dout)
    dout_copy = xp.asarray(dout, copy=True)
    dx = fn(dout_copy, cache)
    if not np.array_equal(to_numpy(dout_copy), to_numpy(dout)):
        raise ValueError(DOUT_IN_PLACE)
    if not _same_library(dx, dout):
        raise TypeError(f"dx is a {type(dx).__module__}.{type(dx).__name__}, not an array of the library of dout "
                        f"({type(dout).__module__})")
    if tuple(dx.shape) != tuple(dout.shape):
        raise ValueError(f"dx has shape {tuple(dx.shape)}, dout has shape {tuple(dout.shape)}")
    dx_again = fn(xp.asarray(dout, copy=True), cache)
    x_np, out_np, dout_np, dx_np = (to_numpy(a) for a in (x, out, dout, dx))
    if mode == "test":  # the identity, whatever the forward pass did
        kept = np.ones(x_np.shape, dtype=bool)
        forward_scale = np.ones(x_np.size)
    else:
        kept = (out_np != 0) & np.isfinite(out_np)
        forward_scale = out_np[kept].astype(np.float64) / x_np[kept].astype(np.float64)
    backward_scale = dx_np[kept].astype(np.float64) / dout_np[kept].astype(np.float64)
    ratio = backward_scale / forward_scale
    return {
        "ratio": (float(np.min(ratio)), float(np.max(ratio))) if ratio.size else None,
        "zero where dropped": bool(np.all(dx_np[~kept] == 0)),
        "same dx twice": bool(np.array_equal(dx_np, to_numpy(dx_again), equal_nan=True)),
    }


def backward_problems(obs: dict, p: float, mode: str) -> list[str]:
    """What the exact gradient would not have done, in words (each with a tag the mistakes look for)."""
    problems = []
    ratio = obs["ratio"]
    if ratio is not None and not (_close(ratio[0], 1.0) and _close(ratio[1], 1.0)):
        tag = ""
        if p > 0 and _close(ratio[0], 1 - p) and _close(ratio[1], 1 - p):
            tag = " (not divided by 1 - p)"
        elif 0 < p and not _close(p, 0.5) and _close(ratio[0], (1 - p) / p) and _close(ratio[1], (1 - p) / p):
            tag = " (divided by p)"
        if mode == "test":
            problems.append(f"in test mode dx is {ratio[0]:.4g} to {ratio[1]:.4g} times dout, expected dout")
        else:
            problems.append(f"where the forward pass kept an entry, dx is {ratio[0]:.4g} to {ratio[1]:.4g} times "
                            f"dout * out / x{tag}, expected exactly dout * out / x")
    if not obs["zero where dropped"]:
        problems.append("dx is not 0 where the forward pass dropped an entry")
    if not obs["same dx twice"]:
        problems.append("two calls on the same cache gave different dx (a new mask in the backward pass)")
    return problems


def probe_backward(fn, args) -> bool:
    """True when dropout_backward is the exact gradient of the submission's own forward pass on this case."""
    problems = backward_problems(observe_backward(fn, args), args[2], args[3])
    if problems:
        raise AssertionError("; ".join(problems))
    return True


# --- cases --------------------------------------------------------------------------

def _signed(rng, shape, dtype=np.float64):
    """Entries of magnitude in [0.5, 2] with random signs: never 0, so out / x is defined everywhere."""
    values = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return values.astype(dtype)


def forward_case(p: float, mode: str, shape: tuple, dtype=np.float64, backend: str | None = None) -> Case:
    where = f", on {backend}" if backend else ""
    kind = "" if dtype == np.float64 else f", {np.dtype(dtype).name}"
    name = f"p = {p}, {mode} mode, x of shape {shape}{kind}{where}"

    def make(rng):
        return _signed(rng, shape, dtype), p, mode, int(rng.integers(2**31))

    return Case(name, make, backend=backend)


def backward_case(p: float, mode: str, shape: tuple, dtype=np.float64, backend: str | None = None) -> Case:
    where = f", on {backend}" if backend else ""
    kind = "" if dtype == np.float64 else f", {np.dtype(dtype).name}"
    name = f"p = {p}, {mode} mode, dout of shape {shape}{kind}{where}"

    def make(rng):
        return _signed(rng, shape, dtype), _signed(rng, shape, dtype), p, mode, int(rng.integers(2**31))

    return Case(name, make, backend=backend)


FORWARD_CASES = (
    forward_case(0.2, "train", (200, 100)),
    forward_case(0.5, "train", (100, 300)),
    forward_case(0.75, "train", (40, 25, 20)),
    forward_case(0.9, "train", (500, 60)),
    forward_case(0.0, "train", (100, 200)),
    forward_case(0.3, "test", (200, 100)),
    forward_case(0.6, "test", (30, 40, 20)),
    forward_case(0.3, "train", (250, 100), dtype=np.float32),
    forward_case(0.4, "train", (200, 100), backend=STRICT),
    forward_case(0.5, "test", (100, 200), backend=STRICT),
)

BACKWARD_CASES = (
    backward_case(0.2, "train", (200, 100)),
    backward_case(0.6, "train", (40, 25, 20)),
    backward_case(0.1, "train", (50, 100)),
    backward_case(0.3, "test", (100, 100)),
    backward_case(0.5, "train", (200, 100), dtype=np.float32),
    backward_case(0.4, "train", (100, 200), backend=STRICT),
)


# --- known mistakes of dropout_forward, written as a student would -------------------

def forward_p_is_keep(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) < p), x.dtype) / p
    return x * mask, (mask, mode)


def forward_no_rescaling(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype)
    return x * mask, (mask, mode)


def forward_scales_at_test(x, p, mode, rng):
    if mode == "test":
        return x * (1 - p), (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * mask, (mask, mode)


def forward_drops_in_test_mode(x, p, mode, rng):
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * mask, (mask, "train")


def forward_global_rng(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(np.random.default_rng().random(x.shape) >= p), x.dtype) / (1 - p)
    return x * mask, (mask, mode)


def forward_one_mask_per_column(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape[1:]) >= p), x.dtype) / (1 - p)
    return x * mask, (mask, mode)


def forward_float64_mask(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, (mask, mode)


def _says(*phrases: str, unless: tuple = ()):
    """A `when` predicate: the case failed with a message containing one of `phrases` and none of `unless`."""
    def predicate(record: dict) -> bool:
        error = record.get("error") or ""
        return any(p in error for p in phrases) and not any(u in error for u in unless)
    return predicate


def _not_array_api(record: dict) -> bool:
    """An array_api_strict case failed on NumPy code (not in the forward pass a backward pass was tested with)."""
    error = record.get("error", "")
    return (STRICT in record.get("case", "") and not error.startswith("RuntimeError: your dropout_forward")
            and ("Array" in error or STRICT in error or "library of" in error))


P_IS_KEEP = ("p is used as the keep probability (the convention of the original paper and of CS231n): in this "
             "course p is the DROP probability, so keep an entry where rng.random(x.shape) >= p and divide by 1 - p.")
NO_RESCALING = ("the kept entries are not divided by 1 - p, so the expected output is (1 - p) * x instead of x: "
                "inverted dropout multiplies the kept entries by 1 / (1 - p) during training.")
SCALES_AT_TEST = ("test mode scales x by 1 - p (vanilla dropout): with inverted dropout the rescaling happens in "
                  "training, so test mode returns x unchanged.")
DROPS_AT_TEST = ('entries are dropped in test mode too: when mode is "test", return x unchanged (and draw nothing).')
NOT_FROM_RNG = ("the mask is not drawn from the rng argument (the same seed gives another mask): draw it with "
                "rng.random(x.shape), never with np.random's global functions or a new generator.")
SHARED_MASK = ("every row is dropped alike: draw one random number per entry, rng.random(x.shape), not one per "
               "column.")
DTYPE_CHANGED = ("a float32 x comes back as float64: the NumPy mask is float64, so convert it to x.dtype "
                 "(xp.astype(mask, x.dtype)) before multiplying.")

def forward_in_place(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    x *= mask
    return x, (mask, mode)


FORWARD_MISTAKES = (
    Mistake(P_IS_KEEP, variant=forward_p_is_keep, when=_says("(a fraction p)")),
    Mistake(NO_RESCALING, variant=forward_no_rescaling, when=_says("(not rescaled)")),
    Mistake(SCALES_AT_TEST, variant=forward_scales_at_test, when=_says("(scaled by 1 - p)")),
    Mistake(DROPS_AT_TEST, variant=forward_drops_in_test_mode, when=_says("in test mode, where nothing")),
    Mistake(NOT_FROM_RNG, variant=forward_global_rng, when=_says("(mask not from rng)")),
    Mistake(SHARED_MASK, variant=forward_one_mask_per_column, when=_says("(one mask shared")),
    Mistake(DTYPE_CHANGED, variant=forward_float64_mask, when=_says("(dtype changed)")),
    Mistake("dropout_forward writes into x (e.g. `x *= mask`), which changes the caller's activations: compute "
            "a new array, out = x * mask.", variant=forward_in_place, when=_says(X_IN_PLACE)),
    Mistake("dropout_forward does not run on array_api_strict arrays: get xp = array_namespace(x), convert the "
            "NumPy mask with xp.asarray and use xp functions (xp.astype, ...), not np.* functions.",
            when=_not_array_api),
)


# --- known mistakes of dropout_backward ---------------------------------------------

def _backward_of(forward):
    """Marks a wrong dropout_backward with the forward pass it belongs to."""
    def mark(backward):
        backward.paired_forward = forward
        return backward
    return mark


def forward_keeping_rng(x, p, mode, rng):
    if mode == "test":
        return x, (p, mode, None)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * mask, (p, mode, rng)


@_backward_of(forward_keeping_rng)
def backward_fresh_mask(dout, cache):
    p, mode, rng = cache
    if mode == "test":
        return dout
    xp = array_namespace(dout)
    mask = xp.astype(xp.asarray(rng.random(dout.shape) >= p), dout.dtype) / (1 - p)
    return dout * mask


def forward_keeping_keep_mask(x, p, mode, rng):
    if mode == "test":
        return x, (None, p, mode)
    xp = array_namespace(x)
    keep = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype)
    return x * keep / (1 - p), (keep, p, mode)


@_backward_of(forward_keeping_keep_mask)
def backward_no_rescaling(dout, cache):
    keep, p, mode = cache
    if mode == "test":
        return dout
    return dout * keep


@_backward_of(forward_keeping_keep_mask)
def backward_divides_by_p(dout, cache):
    keep, p, mode = cache
    if mode == "test":
        return dout
    return dout * keep / p


@_backward_of(forward_keeping_keep_mask)
def backward_ignores_mask(dout, cache):
    return dout


@_backward_of(forward_keeping_keep_mask)
def backward_in_place(dout, cache):
    keep, p, mode = cache
    if mode != "test":
        dout *= keep / (1 - p)
    return dout


BACKWARD_MISTAKES = (
    Mistake("the backward pass draws a new mask: it must use the forward pass's mask (keep it in the cache), "
            "because the entries dropped there did not affect the loss.", variant=backward_fresh_mask,
            when=_says("(a new mask in the backward pass)")),
    Mistake("the backward pass does not divide by 1 - p: the forward pass multiplied the kept entries by "
            "1 / (1 - p), so dx = dout * mask / (1 - p).", variant=backward_no_rescaling,
            when=_says("(not divided by 1 - p)", unless=("not 0 where",))),
    Mistake("the backward pass divides by p: the kept entries were divided by 1 - p, the keep probability.",
            variant=backward_divides_by_p, when=_says("(divided by p)")),
    Mistake("dx is dout unchanged in training mode: the gradient flows only through the kept entries, "
            "dx = dout * mask / (1 - p).", variant=backward_ignores_mask,
            when=_says("not 0 where", unless=("(a new mask",))),
    Mistake("dropout_backward writes into dout (e.g. `dout *= mask`): return a new array.",
            variant=backward_in_place, when=_says(DOUT_IN_PLACE)),
    Mistake("dropout_backward does not run on array_api_strict arrays: use xp = array_namespace(dout) and xp "
            "functions only.", when=_not_array_api),
)


# --- autograded facts ---------------------------------------------------------------

FACT_KEYS = ("keep_probability_of_torch_p_0.2", "train_scale_inverted_p_0.25", "test_scale_vanilla_p_0.25",
             "expected_kept_of_512_p_0.2", "test_mode_needs_rng")

FACT_MISTAKES = (
    Mistake("torch's p = 0.2 drops 20% of the units, so the paper's keep probability is 1 - 0.2 = 0.8.",
            variant={"keep_probability_of_torch_p_0.2": 0.2}),
    Mistake("inverted dropout divides the kept units by the keep probability 1 - p = 0.75, a factor 4/3, "
            "not by p.", variant={"train_scale_inverted_p_0.25": 4.0}),
    Mistake("vanilla dropout multiplies the test-time activations by the keep probability 1 - p = 0.75.",
            variant={"test_scale_vanilla_p_0.25": 0.25}),
    Mistake("each unit is kept with probability 1 - p = 0.8: 0.8 * 512 = 409.6 units on average.",
            variant={"expected_kept_of_512_p_0.2": 102.4}),
)


CHECKS = [
    Check("dropout_forward", FORWARD_CASES, run=probe_forward, mistakes=FORWARD_MISTAKES, rtol=1e-5),
    Check("dropout_backward", BACKWARD_CASES, run=probe_backward, mistakes=BACKWARD_MISTAKES, rtol=1e-5),
    Check("dropout_facts", tuple(answer_case(k) for k in FACT_KEYS), run=look_up_answer, is_value=True, rtol=1e-3,
          mistakes=FACT_MISTAKES),
]


# --- sample submissions (autograder/samples/05_dropout/) -----------------------------
# Each is the reference with these definitions replaced, as a student would have written them.

FORWARD_P_IS_KEEP = """
def dropout_forward(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    mask = rng.random(x.shape) < p  # CS231n: p is the probability of keeping a unit
    scale = xp.astype(xp.asarray(mask), x.dtype) / p
    return x * scale, (scale, mode)
"""

VANILLA_DROPOUT = """
def dropout_forward(x, p, mode, rng):
    if mode == "test":
        return x * (1 - p), (None, mode)
    xp = array_namespace(x)
    scale = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype)
    return x * scale, (scale, mode)
"""

FRESH_MASK_FORWARD = """
def dropout_forward(x, p, mode, rng):
    if mode == "test":
        return x, (p, mode, rng)
    xp = array_namespace(x)
    mask = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * mask, (p, mode, rng)
"""

FRESH_MASK_BACKWARD = """
def dropout_backward(dout, cache):
    p, mode, rng = cache
    if mode == "test":
        return dout
    xp = array_namespace(dout)
    mask = xp.astype(xp.asarray(rng.random(dout.shape) >= p), dout.dtype) / (1 - p)
    return dout * mask
"""

DROPS_IN_TEST_MODE = """
def dropout_forward(x, p, mode, rng):
    xp = array_namespace(x)
    scale = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    return x * scale, (scale, mode)
"""

NUMPY_ONLY = """
def dropout_forward(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * mask, (mask, mode)
"""

IN_PLACE = """
def dropout_forward(x, p, mode, rng):
    if mode == "test":
        return x, (None, mode)
    xp = array_namespace(x)
    scale = xp.astype(xp.asarray(rng.random(x.shape) >= p), x.dtype) / (1 - p)
    x *= scale
    return x, (scale, mode)
"""

BACKWARD_IN_PLACE = """
def dropout_backward(dout, cache):
    scale, mode = cache
    if mode == "test":
        return dout
    dout *= scale
    return dout
"""

SAMPLES = {
    "p_is_keep_probability": {"dropout_forward": FORWARD_P_IS_KEEP},
    "vanilla_dropout": {"dropout_forward": VANILLA_DROPOUT},
    "fresh_mask_in_backward": {"dropout_forward": FRESH_MASK_FORWARD, "dropout_backward": FRESH_MASK_BACKWARD},
    "drops_in_test_mode": {"dropout_forward": DROPS_IN_TEST_MODE},
    "numpy_global_rng": {"dropout_forward": NUMPY_ONLY},
    "in_place": {"dropout_forward": IN_PLACE, "dropout_backward": BACKWARD_IN_PLACE},
    "half_done": {
        "dropout_backward": "def dropout_backward(dout, cache):\n    raise NotImplementedError()",
        "dropout_facts": """
            dropout_facts = {
                "keep_probability_of_torch_p_0.2": 0.2,
                "train_scale_inverted_p_0.25": 4 / 3,
                "test_scale_vanilla_p_0.25": 0.25,
                "expected_kept_of_512_p_0.2": 409.6,
                "test_mode_needs_rng": False,
            }
        """,
    },
}
