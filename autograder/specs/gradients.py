"""Hidden tests of 02_gradients: cases and known mistakes of every graded function.

The references are the master notebook's (`solutions/02_gradients/gradients.ipynb`).

Functions with one right answer (the numeric gradient, the relative error, the four
losses, full-batch training) are compared with the reference case by case. Functions
that draw random numbers (`grad_check_sparse`, `sample_batch`, minibatch training) have
no single right answer: a correct solution may pick other coordinates or rows than the
reference. Their cases are *probes*. The runner watches what the function does (where
`f` is evaluated, which rows a batch holds, what the same or another seed gives) and
returns True, as it does for the reference, or raises an AssertionError whose message
says what went wrong; the student reads it as the case's failure. Known mistakes are
recognised from those messages (`when`) and, for compared values, from their output
(`variant`). Every probe is deterministic for a given implementation and seed, and
`tests/test_gradcheck_stability.py` shows that none is flaky over 50 seeds.
"""
from __future__ import annotations

import numpy as np

from autograder import spec as S
from autograder.spec import Case, Check, Mistake, answer_case, look_up_answer

ASSIGNMENT = "02_gradients"


def _says(*phrases: str):
    """A `when` predicate: the case failed with a message containing one of `phrases`."""
    def predicate(record: dict) -> bool:
        error = record.get("error") or ""
        return any(p in error for p in phrases)
    return predicate


def _mutated(record: dict) -> bool:
    return bool(record.get("mutated"))


def _non_finite(encoded) -> bool:
    """True when an encoded output holds a NaN or an infinity anywhere."""
    if isinstance(encoded, dict):
        if "float" in encoded:
            return True
        return any(_non_finite(v) for v in encoded.values())
    if isinstance(encoded, list):
        return any(_non_finite(v) for v in encoded)
    return False


def _output_not_finite(record: dict) -> bool:
    return _non_finite(record.get("output"))


# --- eval_numerical_gradient --------------------------------------------------------
# Test functions with known derivatives. The numeric gradient is compared with the
# reference's numeric gradient (same formula, so only rounding differs).

def sum_of_cubes(x):
    """f(x) = sum(x**3); gradient 3 x**2."""
    return float(np.sum(x ** 3))


def sum_of_exp(x):
    """f(x) = sum(exp(x)); gradient exp(x)."""
    return float(np.sum(np.exp(x)))


def sum_of_sin(x):
    """f(x) = sum(sin(x)); gradient cos(x)."""
    return float(np.sum(np.sin(x)))


def logsumexp_and_neighbours(x):
    """f(x) = log(sum(exp(x))) + sum of products of neighbouring entries (in memory order)."""
    z = np.ravel(x)
    top = np.max(z)
    return float(top + np.log(np.sum(np.exp(z - top))) + np.sum(z[:-1] * z[1:]))


def quadratic_case(n: int, h: float):
    """f(x) = 0.5 x^T A x + b^T x: centered differences are exact on quadratics, forward ones are off by h A_kk / 2."""
    def make(rng):
        M = rng.standard_normal((n, n))
        A, b = M @ M.T + n * np.eye(n), rng.standard_normal(n)

        def quadratic(x):
            return float(0.5 * x @ A @ x + b @ x)
        return quadratic, rng.standard_normal(n), h
    return make


def numgrad_case(f, shape: tuple, h: float | None = None, scale: float = 1.0):
    def make(rng):
        x = scale * rng.standard_normal(shape)
        return (f, x) if h is None else (f, x, h)
    return make


NUMGRAD_CASES = (
    Case("f = sum(x**3), x of shape (6,), default h", numgrad_case(sum_of_cubes, (6,))),
    Case("f = sum(exp(x)), x of shape (3, 4), h = 1e-3", numgrad_case(sum_of_exp, (3, 4), h=1e-3)),
    Case("f = log-sum-exp plus neighbour products, x of shape (2, 3, 2), h = 1e-4",
         numgrad_case(logsumexp_and_neighbours, (2, 3, 2), h=1e-4, scale=0.5)),
    Case("f = 0.5 x^T A x + b^T x, x of shape (5,), h = 1e-2", quadratic_case(5, 1e-2)),
    Case("f = sum(sin(x)), x of shape (4, 1), h = 0.1", numgrad_case(sum_of_sin, (4, 1), h=0.1)),
    Case("f = sum(x**3), a single entry in [0.5, 2], h = 1e-4",
         lambda rng: (sum_of_cubes, rng.uniform(0.5, 2.0, size=1), 1e-4)),
)


NOT_RESTORED = ("x is left changed after the call: save x[ix] before you change it and write that saved value "
                "back (x + h - 2h + h is not always exactly x in floating point).")


def run_numgrad(fn, args):
    """The numeric gradient; a changed x fails the case with its own message (whatever the gradient)."""
    x_before = args[1].copy()
    grad = fn(*args)
    if not np.array_equal(args[1], x_before):
        raise AssertionError(NOT_RESTORED)
    return grad


def numgrad_forward(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    fx = f(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        grad[ix] = (f(x) - fx) / h
        x[ix] = old
    return grad


def numgrad_divides_by_h(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / h
    return grad


def numgrad_not_restored(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        x[ix] += h
        fxph = f(x)
        x[ix] -= 2 * h
        fxmh = f(x)
        grad[ix] = (fxph - fxmh) / (2 * h)
    return grad


def numgrad_fixed_step(f, x, h=1e-5):
    step = 0.00001
    grad = np.zeros(x.shape)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + step
        fxph = f(x)
        x[ix] = old - step
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * step)
    return grad


def numgrad_first_axis_only(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + h
        fxph = f(x)
        x[i] = old - h
        fxmh = f(x)
        x[i] = old
        grad[i] = (fxph - fxmh) / (2 * h)
    return grad


NUMGRAD_MISTAKES = (
    Mistake("forward differences (f(x + h) - f(x)) / h are used: use centered differences "
            "(f(x + h) - f(x - h)) / 2h, whose error is O(h**2) instead of O(h).", variant=numgrad_forward),
    Mistake("the difference f(x + h) - f(x - h) is divided by h: the two points are 2h apart, divide by 2h.",
            variant=numgrad_divides_by_h),
    Mistake(NOT_RESTORED, variant=numgrad_not_restored, when=_says("x is left changed")),
    Mistake("the step h passed in is ignored (a fixed step is used): use the argument h.",
            variant=numgrad_fixed_step),
    Mistake("only the first axis of x is looped over (whole rows are nudged at once): loop over every entry, "
            "e.g. with np.ndindex(x.shape) or np.nditer(x, flags=['multi_index']).",
            variant=numgrad_first_axis_only),
)


# --- rel_error -----------------------------------------------------------------------

def _magnitudes(rng, shape):
    """Entries in [0.5, 2]: far from 0, so the floor 1e-8 never matters for them."""
    return rng.uniform(0.5, 2.0, size=shape)


def rel_case(kind: str):
    """Pairs (a, b) with |b| < |a| wherever a is not 0 (dividing by |a| or by |b| never coincide) and with
    the sign of a - b fixed per case, so that every known mistake passes or fails a case whatever the seed."""
    def make(rng):
        if kind == "random":
            a = _magnitudes(rng, (3, 4))
            return a, a * (1 - 0.02 * rng.uniform(size=(3, 4)))
        if kind == "identical":
            a = rng.standard_normal(5)
            return a, a.copy()
        if kind == "zeros":
            a = _magnitudes(rng, 6)
            a[[1, 4]] = 0.0
            return a, a * (1 - 0.2 * rng.uniform(size=6))
        if kind == "tiny":
            a = 1e-10 * _magnitudes(rng, 4)
            return a, a * rng.uniform(0.1, 0.9, size=4)
        if kind == "opposite":
            a = -_magnitudes(rng, (2, 2))
            return a, -0.5 * a
        if kind == "scalars":
            a = -float(rng.uniform(1, 2))
            return a, a * float(rng.uniform(0.5, 0.9))
        if kind == "outlier":
            a = _magnitudes(rng, 20)
            b = a * (1 - 1e-6 * rng.uniform(size=20))
            b[7] = -0.5 * b[7]
            return a, b
        raise ValueError(kind)
    return make


REL_CASES = (
    Case("arrays of shape (3, 4), up to 2% apart", rel_case("random")),
    Case("identical arrays", rel_case("identical")),
    Case("zero entries at the same places in both arrays", rel_case("zeros")),
    Case("entries of size 1e-10, below the 1e-8 floor", rel_case("tiny")),
    Case("opposite signs: b = -a / 2", rel_case("opposite")),
    Case("two negative Python floats", rel_case("scalars")),
    Case("20 entries, one of them with the wrong sign", rel_case("outlier")),
)


def rel_error_no_floor(a, b):
    return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


def rel_error_floor_added(a, b):
    return float(np.max(np.abs(a - b) / (1e-8 + np.abs(a) + np.abs(b))))


def rel_error_mean(a, b):
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def rel_error_max_of_magnitudes(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


def rel_error_relative_to_b(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(b))))


def rel_error_signed(a, b):
    return float(np.max((a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


REL_MISTAKES = (
    Mistake("the denominator has no floor: two (nearly) zero entries give 0/0 = nan or a huge ratio; divide by "
            "max(1e-8, |a| + |b|).", variant=rel_error_no_floor),
    Mistake("1e-8 is added to the denominator; the formula takes the max: max(1e-8, |a| + |b|).",
            variant=rel_error_floor_added),
    Mistake("the mean of the entries' relative errors is returned; a gradient check reports the worst entry: "
            "take the max.", variant=rel_error_mean),
    Mistake("the denominator is max(|a|, |b|); the course's relative error divides by |a| + |b|.",
            variant=rel_error_max_of_magnitudes),
    Mistake("the error is relative to b only; divide by max(1e-8, |a| + |b|), which treats a and b alike.",
            variant=rel_error_relative_to_b),
    Mistake("the absolute value of a - b is missing, so negative differences never count: use |a - b|.",
            variant=rel_error_signed),
)


# --- grad_check_sparse: probes ------------------------------------------------------

def _recording(f):
    """f wrapped to record (a copy of) every point it is evaluated at."""
    points = []

    def recorded(x):
        points.append(np.array(S.to_numpy(x), dtype=float, copy=True))
        return f(x)
    return recorded, points


def _moves(points: list, x0: np.ndarray) -> list:
    """(index, step) of every evaluation: (None, 0.0) when it was x0 itself."""
    moves = []
    for p in points:
        if p.shape != x0.shape:
            raise AssertionError(f"f was evaluated at an array of shape {p.shape}; x has shape {x0.shape}")
        changed = np.argwhere(p != x0)
        if len(changed) > 1:
            raise AssertionError(f"f was evaluated with {len(changed)} entries of x changed at once; a partial "
                                 "derivative nudges one entry at a time")
        if len(changed) == 0:
            moves.append((None, 0.0))
        else:
            ix = tuple(int(i) for i in changed[0])
            moves.append((ix, float(p[ix] - x0[ix])))
    return moves


def _one_number(result, name: str) -> float:
    if result is None:
        raise AssertionError(f"{name} returned None: return the largest relative error (printing is optional)")
    try:
        value = np.asarray(S.to_numpy(result), dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} returned a {type(result).__name__}, not a number") from None
    if value.size != 1:
        raise AssertionError(f"{name} returned {value.size} numbers: return only the largest relative error")
    return float(value.reshape(()))


def _checked(moves: list) -> list:
    """The coordinates checked, in order: one per evaluation at x + h."""
    return [ix for ix, step in moves if ix is not None and step > 0]


def _run_check(fn, x, grad, *args, **kwargs) -> tuple[float, list]:
    """Runs the student's grad_check_sparse on f = sum(exp(x)); (value, moves)."""
    x_before, grad_before = x.copy(), grad.copy()
    f, points = _recording(sum_of_exp)
    result = fn(f, x, grad, *args, **kwargs)
    if not np.array_equal(x, x_before):
        raise AssertionError(NOT_RESTORED)
    if not np.array_equal(grad, grad_before):
        raise AssertionError("analytic_grad was changed in place; only read it")
    return _one_number(result, "grad_check_sparse"), _moves(points, x_before)


def gradcheck_case(probe: str, shape: tuple, num_checks: int, h: float, gradient: str = "exact"):
    """A probe of grad_check_sparse on f(x) = sum(exp(x)).

    gradient: the analytic gradient handed in: "exact" (exp(x)), "double" (2 exp(x)),
    "opposite" (-exp(x)) or "uneven" (exp(x) times 1 + u, u distinct in [0.01, 0.5]).
    """
    def make(rng):
        x = 0.5 * rng.standard_normal(shape)
        true = np.exp(x)
        grad = {"exact": true, "double": 2 * true, "opposite": -true,
                "uneven": true * (1 + rng.permutation(np.linspace(0.01, 0.5, true.size)).reshape(shape))}[gradient]
        return probe, x, grad, num_checks, h, int(rng.integers(2 ** 31))
    return make


def run_grad_check(fn, args) -> bool:
    """Runs one probe of grad_check_sparse; True, or an AssertionError saying what went wrong."""
    probe, x, grad, num_checks, h, seed = args
    if probe == "small error":
        value, _ = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        if not value < 1e-6:
            raise AssertionError(f"returned {value:.1e} for the exact gradient of sum(exp(x)) with h = {h:g}; "
                                 "centered differences agree with it to about 1e-9 there (expected < 1e-6)")
    elif probe in ("one third", "one"):
        target = 1 / 3 if probe == "one third" else 1.0
        value, _ = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        if not abs(value - target) < 1e-4:
            what = "twice the true one" if probe == "one third" else "the true one with the opposite sign"
            raise AssertionError(f"returned {value:.4g} for an analytic gradient {what}: the relative error "
                                 f"|a - b| / (|a| + |b|) is {target:.4g} at every coordinate; use rel_error")
    elif probe == "max":
        for run in range(8):
            value, moves = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed + run))
            checked = _checked(moves)
            if not checked:
                raise AssertionError("f was never evaluated at x + h of any coordinate")
            true = np.exp(x)
            errors = [S.rel_error(true[ix], grad[ix]) for ix in checked]
            largest = max(errors)
            if abs(value - largest) <= 1e-4 * largest:
                continue
            if abs(value - np.mean(errors)) <= 1e-4 * largest:
                what = "the mean of the errors at the checked coordinates"
            elif abs(value - errors[-1]) <= 1e-4 * largest:
                what = "the error at the last checked coordinate"
            else:
                what = "not the largest error at the checked coordinates"
            raise AssertionError(f"returned {value:.4g}, {what}; the largest is {largest:.4g}: return the max over "
                                 "all checked coordinates")
    elif probe == "centered":
        _, moves = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        steps = [step for ix, step in moves if ix is not None]
        wrong = [step for step in steps if abs(abs(step) - h) > 1e-6 * h]
        if wrong:
            raise AssertionError(f"an entry of x was moved by {wrong[0]:.3g}; the step should be the h passed in "
                                 f"(h = {h:g} here)")
        if steps and not any(step < 0 for step in steps):
            raise AssertionError("f was evaluated at x + h (and at x) but never at x - h: these are forward "
                                 "differences; use centered differences (f(x + h) - f(x - h)) / 2h")
        for ix in {ix for ix, _ in moves if ix is not None}:
            ups = sum(1 for i, step in moves if i == ix and step > 0)
            downs = sum(1 for i, step in moves if i == ix and step < 0)
            if ups != downs:
                raise AssertionError(f"coordinate {ix} was evaluated {ups} times at x + h and {downs} times at "
                                     "x - h; a centered difference needs one of each")
    elif probe == "count":
        _, moves = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        if len(_checked(moves)) != num_checks:
            raise AssertionError(f"{len(_checked(moves))} coordinates were checked with num_checks = {num_checks}; "
                                 "check exactly num_checks coordinates (not the whole gradient)")
    elif probe == "same seed":
        first = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        second = _run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed))
        if _checked(first[1]) != _checked(second[1]) or first[0] != second[0]:
            raise AssertionError("two generators with the same seed checked different coordinates: draw the "
                                 "coordinates with the rng passed in, never with np.random or a new generator")
    elif probe == "other seeds":
        runs = [_checked(_run_check(fn, x, grad, num_checks, h, np.random.default_rng(seed + k))[1])
                for k in range(4)]
        if all(run == runs[0] for run in runs):
            raise AssertionError("generators with four different seeds all checked the same coordinates: the "
                                 "coordinates must come from the rng passed in")
    elif probe == "defaults":
        value, moves = _run_check(fn, x, grad)
        if len(_checked(moves)) != 10:
            raise AssertionError(f"with the default num_checks = 10, {len(_checked(moves))} coordinates were checked")
        if not value < 1e-6:
            raise AssertionError(f"with the defaults (h = 1e-5, rng = None) it returned {value:.1e} for the exact "
                                 "gradient of sum(exp(x)) (expected < 1e-6)")
    else:
        raise ValueError(probe)
    return True


GRADCHECK_CASES = (
    Case("the exact gradient of sum(exp(x)) gives an error below 1e-6 (x of shape (5, 6), h = 1e-5)",
         gradcheck_case("small error", (5, 6), 10, 1e-5)),
    Case("a gradient twice the true one gives 1/3", gradcheck_case("one third", (4, 5), 10, 1e-5, "double")),
    Case("a gradient of the wrong sign gives 1", gradcheck_case("one", (3, 7), 10, 1e-5, "opposite")),
    Case("the largest error over the checked coordinates is returned (8 runs of 20 checks)",
         gradcheck_case("max", (6, 10), 20, 1e-5, "uneven")),
    Case("centered differences with the h passed in (h = 1e-3)", gradcheck_case("centered", (4, 5), 6, 1e-3)),
    Case("num_checks = 7 checks 7 coordinates", gradcheck_case("count", (4, 5), 7, 1e-5)),
    Case("the same rng seed checks the same coordinates", gradcheck_case("same seed", (6, 10), 5, 1e-5)),
    Case("different rng seeds check different coordinates", gradcheck_case("other seeds", (6, 10), 5, 1e-5)),
    Case("the defaults work: num_checks=10, h=1e-5, rng=None", gradcheck_case("defaults", (3, 3, 4), 10, 1e-5)),
)


def _relative(numeric, analytic):
    return abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))


def gradcheck_forward(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    fx = f(x)
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        numeric = (f(x) - fx) / h
        x[ix] = old
        worst = max(worst, _relative(numeric, analytic_grad[ix]))
    return worst


def gradcheck_returns_nothing(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad_numerical = (fxph - fxmh) / (2 * h)
        rel = _relative(grad_numerical, analytic_grad[ix])
        print(f"numerical: {grad_numerical:f} analytic: {analytic_grad[ix]:f}, relative error: {rel:e}")


def gradcheck_global_rng(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(np.random.randint(n) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        worst = max(worst, _relative((fxph - fxmh) / (2 * h), analytic_grad[ix]))
    return worst


def gradcheck_fixed_seed(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        worst = max(worst, _relative((fxph - fxmh) / (2 * h), analytic_grad[ix]))
    return worst


def gradcheck_not_restored(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        x[ix] += h
        fxph = f(x)
        x[ix] -= 2 * h
        fxmh = f(x)
        worst = max(worst, _relative((fxph - fxmh) / (2 * h), analytic_grad[ix]))
    return worst


def gradcheck_last_error(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    error = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        error = _relative((fxph - fxmh) / (2 * h), analytic_grad[ix])
    return error


def gradcheck_mean_error(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        errors.append(_relative((fxph - fxmh) / (2 * h), analytic_grad[ix]))
    return float(np.mean(errors))


def gradcheck_needs_rng(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    worst = 0.0
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        worst = max(worst, _relative((fxph - fxmh) / (2 * h), analytic_grad[ix]))
    return worst


GRADCHECK_MISTAKES = (
    Mistake("forward differences are used: evaluate f at x + h AND x - h of each checked coordinate and divide "
            "by 2h.", variant=gradcheck_forward, when=_says("forward differences")),
    Mistake("nothing is returned (the errors are only printed): return the largest relative error.",
            variant=gradcheck_returns_nothing, when=_says("returned None")),
    Mistake("the coordinates come from NumPy's global random state (np.random...), so the same seed does not "
            "check the same coordinates: draw them with the rng passed in (rng.integers).",
            variant=gradcheck_global_rng, when=_says("same seed checked different")),
    Mistake("the rng passed in is ignored (a generator with a fixed seed is made inside): use the rng argument, "
            "and make one only when it is None.", variant=gradcheck_fixed_seed, when=_says("four different seeds")),
    Mistake(NOT_RESTORED, variant=gradcheck_not_restored, when=_says("x is left changed")),
    Mistake("the error of the last checked coordinate is returned (each error overwrites the previous one): keep "
            "the largest, worst = max(worst, error).", variant=gradcheck_last_error,
            when=_says("the error at the last checked coordinate")),
    Mistake("the average error over the checked coordinates is returned: a gradient check reports the largest.",
            variant=gradcheck_mean_error, when=_says("the mean of the errors")),
    Mistake("rng=None (the default) crashes: create a generator when none is passed, "
            "rng = np.random.default_rng(0) if rng is None else rng.", variant=gradcheck_needs_rng,
            when=_says("'NoneType' object has no attribute")),
)


# --- the four losses ---------------------------------------------------------------

def loss_case(n: int, d: int, c: int, reg: float, w_scale: float = 1.0, bias: bool = False):
    def make(rng):
        X = rng.standard_normal((n, d))
        if bias:
            X[:, -1] = 1.0
        W = w_scale * rng.standard_normal((d, c))
        return W, X, rng.integers(0, c, size=n), reg
    return make


LOSS_CASES = (
    Case("N=8, D=5, C=3, reg=0.1", loss_case(8, 5, 3, 0.1)),
    Case("N=20, D=10, C=10, reg=0 (no regularization)", loss_case(20, 10, 10, 0.0)),
    Case("bias column of ones, N=12, D=6, C=4, reg=1", loss_case(12, 6, 4, 1.0, bias=True)),
    Case("a single example (N=1), D=4, C=5, reg=0.5", loss_case(1, 4, 5, 0.5)),
    Case("two classes (C=2), N=6, D=3, reg=0.01", loss_case(6, 3, 2, 0.01)),
    Case("CIFAR-like: N=50, D=101 with bias, C=10, W ~ 1e-3, reg=2.5",
         loss_case(50, 101, 10, 2.5, w_scale=1e-3, bias=True)),
    Case("scores of magnitude 1e3: N=4, D=5, C=6, reg=1e-3", loss_case(4, 5, 6, 1e-3, w_scale=400.0)),
)


def svm_grad_not_averaged(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dW = X.T @ mask + 2 * reg * W
    return float(loss), dW


def svm_reg_grad_without_2(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dW = X.T @ mask / num_train + reg * W
    return float(loss), dW


def svm_half_reg(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    loss = margins.sum() / num_train + 0.5 * reg * np.sum(W * W)
    dW = X.T @ mask / num_train + reg * W
    return float(loss), dW


def svm_grad_wrong_sign(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dW = -X.T @ mask / num_train + 2 * reg * W
    return float(loss), dW


def svm_grad_no_correct_class_term(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dW = X.T @ mask / num_train + 2 * reg * W
    return float(loss), dW


def svm_grad_no_indicator(W, X, y, reg):
    num_train, num_classes = X.shape[0], W.shape[1]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = np.ones((num_train, num_classes))
    mask[rows, y] = -(num_classes - 1)
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    dW = X.T @ mask / num_train + 2 * reg * W
    return float(loss), dW


def svm_loss_without_reg(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    dW = X.T @ mask / num_train + 2 * reg * W
    return float(margins.sum() / num_train), dW


IN_PLACE = ("W, X or y is changed in place (for example X[...] = ... or W += ...): a loss only reads its inputs; "
            "compute new arrays.")


def svm_writes_into_w(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / num_train + reg * np.sum(W * W)
    mask = (margins > 0).astype(float)
    mask[rows, y] = -mask.sum(axis=1)
    dW = W                # the regularization gradient first: but dW is W itself,
    dW *= 2 * reg         # so this scales the caller's weights
    dW += X.T @ mask / num_train
    return float(loss), dW


IN_PLACE_LOSS = Mistake(IN_PLACE, variant=svm_writes_into_w, when=_mutated)

SVM_MISTAKES = (
    IN_PLACE_LOSS,
    Mistake("the gradient is not divided by N (the loss is): the data loss is a mean, so is its gradient.",
            variant=svm_grad_not_averaged),
    Mistake("the gradient of reg * sum(W**2) is 2 * reg * W, not reg * W (there is no factor 1/2 in R(W)).",
            variant=svm_reg_grad_without_2),
    Mistake("R(W) has a factor 1/2 (0.5 * reg * sum(W**2), gradient reg * W); in this course the regularization "
            "is reg * sum(W**2), with gradient 2 * reg * W.", variant=svm_half_reg),
    Mistake("the gradient of the data loss has the wrong sign: a violated margin adds x_i to the wrong class's "
            "column and subtracts it from the correct class's column.", variant=svm_grad_wrong_sign),
    Mistake("the correct class's column is missing its term: it gets -x_i once for every class that violates "
            "the margin.", variant=svm_grad_no_correct_class_term),
    Mistake("every wrong class contributes to the gradient, also where max(0, margin) = 0: only classes with a "
            "positive margin do.", variant=svm_grad_no_indicator),
    Mistake("the loss misses the regularization term reg * sum(W**2).", variant=svm_loss_without_reg),
)


def softmax_grad_not_averaged(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    return float(loss), X.T @ dscores + 2 * reg * W


def softmax_reg_grad_without_2(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    return float(loss), X.T @ dscores / num_train + reg * W


def softmax_half_reg(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    loss = -log_probs[rows, y].mean() + 0.5 * reg * np.sum(W * W)
    return float(loss), X.T @ dscores / num_train + reg * W


def softmax_grad_wrong_sign(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = -np.exp(log_probs)
    dscores[rows, y] += 1
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    return float(loss), X.T @ dscores / num_train + 2 * reg * W


def softmax_grad_no_onehot(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    return float(loss), X.T @ probs / num_train + 2 * reg * W


def softmax_writes_into_w(W, X, y, reg):
    num_train = X.shape[0]
    rows = np.arange(num_train)
    scores = X @ W
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    dW = W                # the regularization gradient first: but dW is W itself,
    dW *= 2 * reg         # so this scales the caller's weights
    dW += X.T @ dscores / num_train
    return float(loss), dW


SOFTMAX_MISTAKES = (
    Mistake(IN_PLACE, variant=softmax_writes_into_w, when=_mutated),
    Mistake("the loss is not finite for scores of magnitude 1e3: subtract each row's maximum score before "
            "exponentiating, and compute log p_y as s_y - max - log(sum(exp(s - max))) rather than log(probs[y]), "
            "which is log(0) when p_y underflows.", when=_output_not_finite),
    Mistake("the gradient is not divided by N (the loss is): the data loss is a mean, so is its gradient.",
            variant=softmax_grad_not_averaged),
    Mistake("the gradient of reg * sum(W**2) is 2 * reg * W, not reg * W (there is no factor 1/2 in R(W)).",
            variant=softmax_reg_grad_without_2),
    Mistake("R(W) has a factor 1/2 (0.5 * reg * sum(W**2), gradient reg * W); in this course the regularization "
            "is reg * sum(W**2), with gradient 2 * reg * W.", variant=softmax_half_reg),
    Mistake("the gradient has the wrong sign: dL/ds = probabilities minus the one-hot label, not the reverse.",
            variant=softmax_grad_wrong_sign),
    Mistake("the one-hot label is not subtracted: dL/ds_k = p_k - 1(k = y_i), so the correct class gets p - 1.",
            variant=softmax_grad_no_onehot),
)


# --- sample_batch: probes ------------------------------------------------------------

def batch_case(probe: str, n: int, d: int, batch_size: int):
    def make(rng):
        return probe, rng.standard_normal((n, d)), rng.integers(0, 10, size=n), batch_size, int(rng.integers(2 ** 31))
    return make


def _draw(fn, X, y, batch_size, rng) -> tuple[np.ndarray, np.ndarray]:
    X_before, y_before = X.copy(), y.copy()
    result = fn(X, y, batch_size, rng)
    if not (np.array_equal(X, X_before) and np.array_equal(y, y_before)):
        raise AssertionError("X or y was changed in place; sample_batch only reads them")
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"sample_batch returned a {type(result).__name__}; return the pair (X_batch, y_batch)")
    return np.asarray(S.to_numpy(result[0]), dtype=float), np.asarray(S.to_numpy(result[1]))


def _rows_of(X: np.ndarray, X_batch: np.ndarray) -> list[int]:
    """The index in X of every row of X_batch (rows of X are distinct)."""
    where = {row.tobytes(): i for i, row in enumerate(np.asarray(X, dtype=float))}
    rows = []
    for row in X_batch:
        if row.tobytes() not in where:
            raise AssertionError("X_batch holds a row that is not a row of X")
        rows.append(where[row.tobytes()])
    return rows


def run_sample_batch(fn, args) -> bool:
    """Runs one probe of sample_batch; True, or an AssertionError saying what went wrong."""
    probe, X, y, batch_size, seed = args
    n, d = X.shape
    if probe == "shapes":
        X_batch, y_batch = _draw(fn, X, y, batch_size, np.random.default_rng(seed))
        if X_batch.shape != (batch_size, d) or y_batch.shape != (batch_size,):
            raise AssertionError(f"returned shapes {X_batch.shape} and {y_batch.shape}; expected {(batch_size, d)} "
                                 f"and {(batch_size,)}")
    elif probe == "pairs":
        for k in range(5):
            X_batch, y_batch = _draw(fn, X, y, batch_size, np.random.default_rng(seed + k))
            rows = _rows_of(X, X_batch)
            if y_batch.shape != (len(rows),) or not np.array_equal(y_batch, y[rows]):
                raise AssertionError("y_batch[k] is not the label of the row X_batch[k]: index X and y with the "
                                     "same indices")
    elif probe == "same seed":
        first = _draw(fn, X, y, batch_size, np.random.default_rng(seed))
        second = _draw(fn, X, y, batch_size, np.random.default_rng(seed))
        if not (np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])):
            raise AssertionError("two generators with the same seed drew different batches: draw the indices "
                                 "with the rng passed in, never with np.random")
    elif probe == "other seeds":
        batches = [_draw(fn, X, y, batch_size, np.random.default_rng(seed + k))[0] for k in range(4)]
        if all(np.array_equal(b, batches[0]) for b in batches):
            raise AssertionError("generators with four different seeds drew the same batch: the rows must be "
                                 "drawn at random with the rng passed in")
    elif probe == "coverage":
        rng = np.random.default_rng(seed)
        batches = [_rows_of(X, _draw(fn, X, y, batch_size, rng)[0]) for _ in range(60)]
        seen = set().union(*batches)
        if all(batch == batches[0] for batch in batches):
            raise AssertionError(f"60 calls with one generator all returned the same {batch_size} rows: draw new "
                                 "random indices at every call, with the rng passed in")
        if seen <= set(range(batch_size)):
            raise AssertionError(f"in 60 batches of {batch_size} from N = {n} rows, only rows 0 to {batch_size - 1} "
                                 "were ever drawn: draw the indices from range(N), not range(batch_size)")
        if len(seen) < n:
            raise AssertionError(f"in 60 batches of {batch_size} from N = {n} rows, {n - len(seen)} rows were never "
                                 "drawn: draw the indices from all N rows")
    else:
        raise ValueError(probe)
    return True


BATCH_CASES = (
    Case("shapes: batch_size=16 from N=50, D=7", batch_case("shapes", 50, 7, 16)),
    Case("shapes: batch_size=1", batch_case("shapes", 20, 3, 1)),
    Case("each row of X_batch comes with its own label", batch_case("pairs", 40, 5, 12)),
    Case("the same rng seed draws the same batch", batch_case("same seed", 50, 4, 10)),
    Case("different rng seeds draw different batches", batch_case("other seeds", 50, 4, 10)),
    Case("60 batches of 10 from N=30 reach every row", batch_case("coverage", 30, 3, 10)),
)


def batch_first_rows(X, y, batch_size, rng):
    return X[:batch_size], y[:batch_size]


def batch_separate_indices(X, y, batch_size, rng):
    num_train = X.shape[0]
    return X[rng.integers(0, num_train, size=batch_size)], y[rng.integers(0, num_train, size=batch_size)]


def batch_global_rng(X, y, batch_size, rng):
    idx = np.random.choice(X.shape[0], batch_size)
    return X[idx], y[idx]


def batch_from_first_rows_only(X, y, batch_size, rng):
    idx = rng.integers(0, batch_size, size=batch_size)
    return X[idx], y[idx]


BATCH_MISTAKES = (
    Mistake("the batch is always the first batch_size rows: draw random row indices with the rng passed in.",
            variant=batch_first_rows, when=_says("four different seeds", "all returned the same")),
    Mistake("X and y are indexed with two different draws of indices, so the labels no longer match the rows: "
            "draw one set of indices and use it for both.", variant=batch_separate_indices,
            when=_says("is not the label")),
    Mistake("the indices come from NumPy's global random state (np.random...): draw them with the rng passed in.",
            variant=batch_global_rng, when=_says("same seed drew different")),
    Mistake("the indices are drawn from range(batch_size) instead of range(N): rows beyond batch_size are "
            "never used.", variant=batch_from_first_rows_only, when=_says("only rows 0 to")),
)


# --- train_linear_classifier ---------------------------------------------------------

def least_squares_loss(W, X, y, reg):
    """A smooth loss to train with in the tests: mean squared distance of the scores to the one-hot labels."""
    diff = X @ W - np.eye(W.shape[1])[y]
    return (float(np.mean(np.sum(diff ** 2, axis=1)) + reg * np.sum(W * W)),
            2 * X.T @ diff / X.shape[0] + 2 * reg * W)


def _recording_loss():
    """least_squares_loss wrapped to record (W, X, y, loss, dW) of every call."""
    calls = []

    def loss_fn(W, X, y, reg):
        loss, dW = least_squares_loss(np.asarray(W, dtype=float), np.asarray(X, dtype=float), np.asarray(y), reg)
        calls.append((np.array(W, dtype=float, copy=True), np.array(X, dtype=float, copy=True),
                      np.array(y, copy=True), loss, dW))
        return loss, dW
    return loss_fn, calls


def _train(fn, loss_fn, W, X, y, reg, learning_rate, num_iters, *rest):
    """Runs the student's loop; (final W, loss history) as float arrays."""
    W_before = W.copy()
    result = fn(loss_fn, W, X, y, reg, learning_rate, num_iters, *rest)
    if not np.array_equal(W, W_before):
        raise AssertionError("the W passed in was changed in place: write W = W - learning_rate * dW, "
                             "not W -= learning_rate * dW")
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise AssertionError(f"train_linear_classifier returned a {type(result).__name__}; return the pair "
                             "(W, loss_history)")
    W_out = np.asarray(S.to_numpy(result[0]), dtype=float)
    history = np.asarray([float(v) for v in result[1]], dtype=float)
    return W_out, history


def training_case(n: int, d: int, c: int, reg: float, learning_rate: float, num_iters: int):
    def make(rng):
        return (0.1 * rng.standard_normal((d, c)), rng.standard_normal((n, d)), rng.integers(0, c, size=n),
                reg, learning_rate, num_iters)
    return make


def minibatch_case(probe: str, n: int, batch_size: int, num_iters: int):
    def make(rng):
        d, c = 4, 3
        return (probe, 0.1 * rng.standard_normal((d, c)), rng.standard_normal((n, d)), rng.integers(0, c, size=n),
                0.01, 0.1, num_iters, batch_size, int(rng.integers(2 ** 31)))
    return make


def run_training(fn, args):
    """Full-batch cases return (W, history) to compare; minibatch probes return True or raise."""
    if not isinstance(args[0], str):
        return _train(fn, least_squares_loss, *args)
    probe, W, X, y, reg, learning_rate, num_iters, batch_size, seed = args
    if probe == "steps":
        loss_fn, calls = _recording_loss()
        W_out, history = _train(fn, loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size,
                                np.random.default_rng(seed))
        if len(calls) != num_iters:
            raise AssertionError(f"loss_fn was called {len(calls)} times for num_iters = {num_iters}; call it once "
                                 "per step")
        for _, X_batch, y_batch, _, _ in calls:
            if X_batch.shape[0] != batch_size:
                raise AssertionError(f"loss_fn got {X_batch.shape[0]} examples at a step; with batch_size = "
                                     f"{batch_size} every step uses a minibatch of {batch_size} (from sample_batch)")
            rows = _rows_of(X, X_batch)
            if not np.array_equal(y_batch, y[rows]):
                raise AssertionError("loss_fn got labels that do not belong to the rows of its minibatch")
        weights = [call[0] for call in calls] + [W_out]
        if not np.array_equal(weights[0], W):
            raise AssertionError("the first step did not start from the W passed in")
        for t, (W_t, _, _, _, dW_t) in enumerate(calls):
            if np.allclose(weights[t + 1], W_t - learning_rate * dW_t, rtol=1e-10, atol=1e-12):
                continue
            if np.allclose(weights[t + 1], W_t + learning_rate * dW_t, rtol=1e-10, atol=1e-12):
                raise AssertionError("the weights moved along +dW (gradient ascent): the update is "
                                     "W = W - learning_rate * dW")
            raise AssertionError(f"the weights after step {t} are not W - learning_rate * dW of that step")
        losses = [call[3] for call in calls]
        if history.shape != (num_iters,) or not np.allclose(history, losses, rtol=1e-12, atol=0):
            raise AssertionError("loss_history must hold, for every step t, the loss loss_fn returned at step t")
    elif probe == "fresh batches":
        loss_fn, calls = _recording_loss()
        _train(fn, loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size, np.random.default_rng(seed))
        batches = [call[1] for call in calls]
        if any(b.shape[0] != batch_size for b in batches):
            raise AssertionError(f"loss_fn got {batches[0].shape[0]} examples at a step; with batch_size = "
                                 f"{batch_size} every step uses a minibatch of {batch_size} (from sample_batch)")
        if len(batches) > 1 and all(np.array_equal(b, batches[0]) for b in batches):
            raise AssertionError("every step used the same minibatch: draw a new one inside the loop")
    elif probe == "same seed":
        runs = [_train(fn, least_squares_loss, W, X, y, reg, learning_rate, num_iters, batch_size,
                       np.random.default_rng(seed))[0] for _ in range(2)]
        if not np.array_equal(runs[0], runs[1]):
            raise AssertionError("two runs with generators of the same seed ended with different weights: "
                                 "sample the minibatches with the rng passed in")
    else:
        raise ValueError(probe)
    return True


TRAINING_CASES = (
    Case("full batch, 1 step, learning rate 0.1, reg=0 (N=6, D=4, C=3)", training_case(6, 4, 3, 0.0, 0.1, 1)),
    Case("full batch, 10 steps, learning rate 0.05, reg=0.1", training_case(8, 4, 3, 0.1, 0.05, 10)),
    Case("full batch, 25 steps, learning rate 0.01, reg=1 (N=20, D=8, C=5)", training_case(20, 8, 5, 1.0, 0.01, 25)),
    Case("0 steps: the weights come back unchanged, with an empty history", training_case(5, 3, 2, 0.1, 0.1, 0)),
    Case("minibatch: 12 steps of batches of 4 from N=30 (batch, update and recorded loss of every step)",
         minibatch_case("steps", 30, 4, 12)),
    Case("minibatch: a fresh batch at every step (20 steps of 5 from N=40)",
         minibatch_case("fresh batches", 40, 5, 20)),
    Case("minibatch: the same rng seed gives the same weights", minibatch_case("same seed", 30, 6, 10)),
)


def train_gradient_ascent(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
    loss_history = []
    for _ in range(num_iters):
        if batch_size is None:
            X_batch, y_batch = X, y
        else:
            idx = rng.integers(0, X.shape[0], size=batch_size)
            X_batch, y_batch = X[idx], y[idx]
        loss, dW = loss_fn(W, X_batch, y_batch, reg)
        loss_history.append(loss)
        W = W + learning_rate * dW
    return W, loss_history


def train_in_place(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
    loss_history = []
    for _ in range(num_iters):
        if batch_size is None:
            X_batch, y_batch = X, y
        else:
            idx = rng.integers(0, X.shape[0], size=batch_size)
            X_batch, y_batch = X[idx], y[idx]
        loss, dW = loss_fn(W, X_batch, y_batch, reg)
        loss_history.append(loss)
        W -= learning_rate * dW
    return W, loss_history


def train_ignores_batch_size(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
    loss_history = []
    for _ in range(num_iters):
        loss, dW = loss_fn(W, X, y, reg)
        loss_history.append(loss)
        W = W - learning_rate * dW
    return W, loss_history


def train_one_batch(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
    loss_history = []
    if batch_size is None:
        X_batch, y_batch = X, y
    else:
        idx = rng.integers(0, X.shape[0], size=batch_size)
        X_batch, y_batch = X[idx], y[idx]
    for _ in range(num_iters):
        loss, dW = loss_fn(W, X_batch, y_batch, reg)
        loss_history.append(loss)
        W = W - learning_rate * dW
    return W, loss_history


TRAINING_MISTAKES = (
    Mistake("the weights move along +dW (gradient ascent): the update is W = W - learning_rate * dW.",
            variant=train_gradient_ascent, when=_says("gradient ascent")),
    Mistake("the W passed in is changed in place (W -= ...): write W = W - learning_rate * dW, so the caller's "
            "weights stay as they were.", variant=train_in_place, when=_says("changed in place")),
    Mistake("batch_size is ignored, so every step uses the whole training set: with a batch_size, take each "
            "step on sample_batch(X, y, batch_size, rng).", variant=train_ignores_batch_size,
            when=_says("every step uses a minibatch")),
    Mistake("one minibatch is drawn before the loop and reused at every step: draw a new one inside the loop.",
            variant=train_one_batch, when=_says("same minibatch")),
    Mistake("runs with generators of the same seed end with different weights: the minibatches must come from "
            "the rng passed in (through sample_batch; check that it uses its rng argument).",
            when=_says("ended with different weights")),
)


# --- autograded facts --------------------------------------------------------------

FACT_KEYS = ("lecture_first_entry", "lecture_second_entry", "evals_centered_cifar", "evals_forward_cifar",
             "forward_error_order", "centered_error_order")


FACT_MISTAKES = (
    Mistake("the loss went DOWN when the first weight went up, so that slope is negative: "
            "(1.25322 - 1.25347) / 0.0001 = -2.5.", variant={"lecture_first_entry": 2.5}),
    Mistake("centered differences evaluate the loss twice per weight: 2 * 3073 * 10 = 61,460 evaluations.",
            variant={"evals_centered_cifar": 30730}),
    Mistake("forward differences need one evaluation per weight plus one of f(x) itself: 30,730 + 1.",
            variant={"evals_forward_cifar": 30730}),
    Mistake("the orders are swapped: the forward difference's error shrinks like h (order 1), the centered "
            "difference's like h**2 (order 2).", variant={"forward_error_order": 2, "centered_error_order": 1}),
)


CHECKS = [
    Check("eval_numerical_gradient", NUMGRAD_CASES, run=run_numgrad, mistakes=NUMGRAD_MISTAKES, rtol=1e-6),
    Check("rel_error", REL_CASES, mistakes=REL_MISTAKES),
    Check("grad_check_sparse", GRADCHECK_CASES, run=run_grad_check, mistakes=GRADCHECK_MISTAKES),
    Check("svm_loss_naive", LOSS_CASES, mistakes=SVM_MISTAKES, rtol=1e-6),
    Check("svm_loss_vectorized", LOSS_CASES, mistakes=SVM_MISTAKES, rtol=1e-6),
    Check("softmax_loss_naive", LOSS_CASES, mistakes=SOFTMAX_MISTAKES, rtol=1e-6),
    Check("softmax_loss_vectorized", LOSS_CASES, mistakes=SOFTMAX_MISTAKES, rtol=1e-6),
    Check("sample_batch", BATCH_CASES, run=run_sample_batch, mistakes=BATCH_MISTAKES),
    Check("train_linear_classifier", TRAINING_CASES, run=run_training, mistakes=TRAINING_MISTAKES, rtol=1e-9),
    Check("gradient_facts", tuple(answer_case(k) for k in FACT_KEYS), run=look_up_answer, is_value=True, rtol=1e-6,
          mistakes=FACT_MISTAKES),
]

# Sample submissions (autograder/samples/02_gradients/): each is the reference with
# these definitions replaced, as a student would have written them.
SAMPLES = {
    "forward_differences": {
        "eval_numerical_gradient": numgrad_forward,
        "grad_check_sparse": """
            def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
                rng = np.random.default_rng(0) if rng is None else rng
                fx = f(x)
                worst = 0.0
                for _ in range(num_checks):
                    ix = tuple(int(rng.integers(n)) for n in x.shape)
                    old = x[ix]
                    x[ix] = old + h
                    numeric = (f(x) - fx) / h
                    x[ix] = old
                    worst = max(worst, rel_error(numeric, analytic_grad[ix]))
                return worst
        """,
    },
    "x_not_restored": {
        "eval_numerical_gradient": numgrad_not_restored,
        "grad_check_sparse": """
            def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
                rng = np.random.default_rng(0) if rng is None else rng
                errors = []
                for _ in range(num_checks):
                    ix = tuple(int(rng.integers(n)) for n in x.shape)
                    x[ix] += h
                    fxph = f(x)
                    x[ix] -= 2 * h
                    fxmh = f(x)
                    errors.append(rel_error((fxph - fxmh) / (2 * h), analytic_grad[ix]))
                return max(errors)
        """,
    },
    "gradient_not_averaged": {
        "svm_loss_vectorized": svm_grad_not_averaged,
        "softmax_loss_vectorized": softmax_grad_not_averaged,
    },
    "reg_gradient_without_2": {
        "svm_loss_naive": """
            def svm_loss_naive(W, X, y, reg):
                dW = np.zeros(W.shape)
                loss = 0.0
                for i in range(X.shape[0]):
                    scores = X[i].dot(W)
                    for j in range(W.shape[1]):
                        if j == y[i]:
                            continue
                        margin = scores[j] - scores[y[i]] + 1
                        if margin > 0:
                            loss += margin
                            dW[:, j] += X[i]
                            dW[:, y[i]] -= X[i]
                loss = loss / X.shape[0] + reg * np.sum(W * W)
                dW = dW / X.shape[0] + reg * W
                return float(loss), dW
        """,
        "softmax_loss_naive": """
            def softmax_loss_naive(W, X, y, reg):
                dW = np.zeros(W.shape)
                loss = 0.0
                for i in range(X.shape[0]):
                    scores = X[i].dot(W)
                    scores -= np.max(scores)
                    log_sum = np.log(np.sum(np.exp(scores)))
                    loss += log_sum - scores[y[i]]
                    for j in range(W.shape[1]):
                        p = np.exp(scores[j] - log_sum)
                        dW[:, j] += (p - (j == y[i])) * X[i]
                loss = loss / X.shape[0] + reg * np.sum(W * W)
                dW = dW / X.shape[0] + reg * W
                return float(loss), dW
        """,
    },
    "softmax_sign_and_overflow": {
        "softmax_loss_naive": """
            def softmax_loss_naive(W, X, y, reg):
                dW = np.zeros(W.shape)
                loss = 0.0
                for i in range(X.shape[0]):
                    scores = X[i] @ W
                    probs = np.exp(scores) / np.sum(np.exp(scores))
                    loss -= np.log(probs[y[i]])
                    onehot = np.zeros(W.shape[1])
                    onehot[y[i]] = 1
                    dW += np.outer(X[i], probs - onehot)
                return float(loss / X.shape[0] + reg * np.sum(W * W)), dW / X.shape[0] + 2 * reg * W
        """,
        "softmax_loss_vectorized": softmax_grad_wrong_sign,
    },
    "cs231n_habits": {
        "grad_check_sparse": """
            def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
                for i in range(num_checks):
                    ix = tuple([np.random.randint(m) for m in x.shape])
                    oldval = x[ix]
                    x[ix] = oldval + h
                    fxph = f(x)
                    x[ix] = oldval - h
                    fxmh = f(x)
                    x[ix] = oldval
                    grad_numerical = (fxph - fxmh) / (2 * h)
                    grad_analytic = analytic_grad[ix]
                    rel = rel_error(grad_numerical, grad_analytic)
                    print('numerical: %f analytic: %f, relative error: %e' % (grad_numerical, grad_analytic, rel))
        """,
        "sample_batch": batch_global_rng,
    },
    "sgd_in_place": {"train_linear_classifier": """
        def train_linear_classifier(loss_fn, W, X, y, reg, learning_rate, num_iters, batch_size=None, rng=None):
            loss_history = []
            for it in range(num_iters):
                if batch_size is None:
                    X_batch, y_batch = X, y
                else:
                    X_batch, y_batch = sample_batch(X, y, batch_size, rng)
                loss, grad = loss_fn(W, X_batch, y_batch, reg)
                loss_history.append(loss)
                W -= learning_rate * grad
            return W, loss_history
    """},
    "half_done": {
        "grad_check_sparse": ("def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):\n"
                              "    raise NotImplementedError()"),
        "softmax_loss_vectorized": "def softmax_loss_vectorized(W, X, y, reg):\n    raise NotImplementedError()",
        "train_linear_classifier": ("def train_linear_classifier(loss_fn, W, X, y, reg, learning_rate, num_iters, "
                                    "batch_size=None, rng=None):\n    raise NotImplementedError()"),
        "gradient_facts": """
            gradient_facts = {
                "lecture_first_entry": -2.5,
                "lecture_second_entry": 0.6,
                "evals_centered_cifar": 30730,
                "evals_forward_cifar": 30731,
                "forward_error_order": 2,
                "centered_error_order": 1,
            }
        """,
    },
}
