"""Hidden tests of 04_schedules: cases and known mistakes of every graded schedule.

The references are the master notebook's (`solutions/04_schedules/schedules.ipynb`).

A schedule is a pure function of the step t (a Python int or an array of
ints), so each case calls it once: on a single step at a boundary (t = 0, a
milestone, t = T, past T), or on an array of steps covering a whole run. A few
cases hand it `array_api_strict` arrays, which only Array-API code accepts.

The variants below are the mistakes students make, written the way a student
would write them (with the notebook's provided helper `as_steps`); a failed
case whose output matches one is diagnosed with its message.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from array_api_compat import array_namespace

from autograder.spec import Case, Check, Mistake

ASSIGNMENT = "04_schedules"
STRICT = "array_api_strict"


def as_steps(t):
    """The notebook's provided helper (not graded): (xp, t as float64 array of xp)."""
    xp = np if isinstance(t, numbers.Number) else array_namespace(t)
    return xp, xp.astype(xp.asarray(t), xp.float64)


def steps(*values, shape=None):
    """An int64 array of steps (reshaped if asked)."""
    t = np.array(values, dtype=np.int64)
    return t if shape is None else t.reshape(shape)


def run_steps(start, stop, step=1):
    return np.arange(start, stop, step, dtype=np.int64)


def args_case(name: str, *args, backend: str | None = None) -> Case:
    """A case with fixed arguments (arrays copied for every build)."""
    return Case(name, lambda rng: tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args), backend=backend)


def run_schedule(fn, args):
    """Calls the schedule; on an array of another library (array_api_strict) the rate must be one too."""
    out = fn(*args)
    t = args[0]
    if not isinstance(t, (numbers.Number, np.ndarray)):
        try:
            same_library = array_namespace(out) is array_namespace(t)
        except TypeError:
            same_library = False
        if not same_library:
            raise TypeError(f"the rate is a {type(out).__module__}.{type(out).__name__}, not an array of the library "
                            f"of t ({type(t).__module__}); compute with xp, steps = as_steps(t)")
    return out


def _not_array_api(record: dict) -> bool:
    """An array_api_strict case failed on NumPy or math code."""
    error = record.get("error", "")
    return STRICT in record.get("case", "") and ("Array" in error or STRICT in error or "math" in error)


NOT_ARRAY_API = Mistake(
    "the schedule does not run on array_api_strict arrays: take xp, steps = as_steps(t) and use only xp functions "
    "(xp.cos, xp.sqrt, xp.minimum, xp.where, ...), not np.* or math.* functions.", when=_not_array_api)


# --- step decay -----------------------------------------------------------------------

def step_decay_after_milestone(t, lr0, milestones, gamma=0.1):
    xp, s = as_steps(t)
    passed = xp.zeros_like(s)
    for m in milestones:
        passed = passed + xp.astype(s > m, xp.float64)
    return lr0 * gamma ** passed


def step_decay_one_step_early(t, lr0, milestones, gamma=0.1):
    xp, s = as_steps(t)
    passed = xp.zeros_like(s)
    for m in milestones:
        passed = passed + xp.astype(s + 1 >= m, xp.float64)
    return lr0 * gamma ** passed


def step_decay_subtracts(t, lr0, milestones, gamma=0.1):
    xp, s = as_steps(t)
    passed = xp.zeros_like(s)
    for m in milestones:
        passed = passed + xp.astype(s >= m, xp.float64)
    return lr0 - gamma * passed


def step_decay_once(t, lr0, milestones, gamma=0.1):
    xp, s = as_steps(t)
    decayed = xp.zeros_like(s)
    for m in milestones:
        decayed = xp.where(s >= m, 1.0, decayed)
    return lr0 * gamma ** decayed


STEP_CASES = (
    args_case("lecture: lr0=0.1, x0.1 at epochs 30, 60, 90; t = 0..119 (array)", run_steps(0, 120), 0.1, [30, 60, 90]),
    args_case("t = 0 (a Python int), milestones [30, 60, 90]", 0, 0.1, [30, 60, 90]),
    args_case("t = 30, exactly at the first milestone (a Python int)", 30, 0.1, [30, 60, 90]),
    args_case("t = 29, just before the first milestone", 29, 0.1, [30, 60, 90]),
    args_case("t = 90, at the last milestone", 90, 0.1, [30, 60, 90]),
    args_case("t = 500, past every milestone", 500, 0.1, [30, 60, 90]),
    args_case("lr0=1, gamma=0.5, milestones [5, 12], steps of shape (2, 4) around the milestones",
              steps(4, 5, 6, 11, 12, 13, 0, 20, shape=(2, 4)), 1.0, [5, 12], 0.5),
    args_case("lr0=3e-4, gamma=0.2, one milestone at t = 0, t = 0..5", run_steps(0, 6), 3e-4, [0], 0.2),
    args_case("no milestones: the rate stays lr0, t = 10", 10, 0.05, []),
    args_case("lr0=0.1, milestones [30, 60], t = 0, 5, ..., 95, on array_api_strict", run_steps(0, 100, 5), 0.1,
              [30, 60], 0.1, backend=STRICT),
)

STEP_MISTAKES = (
    Mistake("off by one at the milestones: at t = m the rate is already decayed, so count the milestones with "
            "t >= m (not t > m).", variant=step_decay_after_milestone),
    Mistake("off by one at the milestones: the decay comes one step early; count the milestones with t >= m "
            "(t is counted from 0).", variant=step_decay_one_step_early),
    Mistake("the decay is subtracted (lr0 - gamma per milestone); step decay MULTIPLIES by gamma at each "
            "milestone: lr0 * gamma ** (number of milestones passed).", variant=step_decay_subtracts),
    Mistake("gamma is applied once however many milestones are passed: the rate is lr0 * gamma ** k after k "
            "milestones.", variant=step_decay_once),
    NOT_ARRAY_API,
)


# --- cosine decay ---------------------------------------------------------------------

def cosine_t_plus_1(t, lr0, T, lr_min=0.0):
    xp, s = as_steps(t)
    s = xp.minimum(s, float(T))
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + xp.cos(math.pi * s / (T + 1)))


def cosine_degrees(t, lr0, T, lr_min=0.0):
    xp, s = as_steps(t)
    s = xp.minimum(s, float(T))
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + xp.cos(180.0 * s / T))


def cosine_not_held(t, lr0, T, lr_min=0.0):
    xp, s = as_steps(t)
    return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + xp.cos(math.pi * s / T))


def cosine_lr_min_added(t, lr0, T, lr_min=0.0):
    xp, s = as_steps(t)
    s = xp.minimum(s, float(T))
    return lr_min + 0.5 * lr0 * (1.0 + xp.cos(math.pi * s / T))


def cosine_zero_after_T(t, lr0, T, lr_min=0.0):
    xp, s = as_steps(t)
    value = lr_min + 0.5 * (lr0 - lr_min) * (1.0 + xp.cos(math.pi * xp.minimum(s, float(T)) / T))
    return xp.where(s > T, 0.0, value)


COSINE_CASES = (
    args_case("lr0=0.1, T=100, t = 0, 10, ..., 200 (array, past T)", run_steps(0, 201, 10), 0.1, 100),
    args_case("t = 0 (a Python int), T=100", 0, 0.1, 100),
    args_case("t = T = 100 (a Python int)", 100, 0.1, 100),
    args_case("t = 150, past T = 100", 150, 0.1, 100),
    args_case("lr0=1, T=7, lr_min=0.01, t = 0..10", run_steps(0, 11), 1.0, 7, 0.01),
    args_case("lr0=0.5, T=1000, lr_min=0.05, t = 250 (a Python int)", 250, 0.5, 1000, 0.05),
    args_case("lr0=2e-3, T=30, steps of shape (3, 3)", steps(0, 1, 14, 15, 16, 29, 30, 31, 60, shape=(3, 3)), 2e-3, 30),
    args_case("lr0=0.1, T=50, lr_min=1e-3, t = 0, 4, ..., 64, on array_api_strict", run_steps(0, 65, 4), 0.1, 50,
              1e-3, backend=STRICT),
)

COSINE_MISTAKES = (
    Mistake("the angle is pi * t / (T + 1): the cosine must reach lr_min exactly at t = T, so divide by T.",
            variant=cosine_t_plus_1),
    Mistake("the angle is in degrees (180 * t / T); cos works in radians: use pi * t / T.", variant=cosine_degrees),
    Mistake("after T the rate rises again along the cosine: hold it at lr_min for t >= T (use min(t, T)).",
            variant=cosine_not_held),
    Mistake("lr_min is added on top of the whole cosine: the amplitude is 0.5 * (lr0 - lr_min), so the rate starts "
            "at lr0 and ends at lr_min.", variant=cosine_lr_min_added),
    Mistake("after T the rate drops to 0: it is held at lr_min.", variant=cosine_zero_after_T),
    NOT_ARRAY_API,
)


# --- linear decay ---------------------------------------------------------------------

def linear_not_held(t, lr0, T):
    xp, s = as_steps(t)
    return lr0 * (1.0 - s / T)


def linear_t_plus_1(t, lr0, T):
    xp, s = as_steps(t)
    return lr0 * (1.0 - xp.minimum(s, float(T)) / (T + 1))


def linear_no_parentheses(t, lr0, T):
    xp, s = as_steps(t)
    return xp.maximum(lr0 * 1.0 - s / T, 0.0)


LINEAR_CASES = (
    args_case("lr0=0.1, T=100, t = 0, 10, ..., 200 (array, past T)", run_steps(0, 201, 10), 0.1, 100),
    args_case("t = 0 (a Python int), T=10", 0, 0.1, 10),
    args_case("t = T = 10 (a Python int)", 10, 0.1, 10),
    args_case("t = 25, past T = 10", 25, 0.1, 10),
    args_case("lr0=3.0, T=4, t = 0..6", run_steps(0, 7), 3.0, 4),
    args_case("lr0=0.2, T=1000, t = 0, 10, ..., 990, on array_api_strict", run_steps(0, 1000, 10), 0.2, 1000,
              backend=STRICT),
)

LINEAR_MISTAKES = (
    Mistake("after T the rate becomes negative: hold it at 0 for t >= T (use min(t, T)).", variant=linear_not_held),
    Mistake("the rate reaches 0 at T + 1 instead of T: divide by T.", variant=linear_t_plus_1),
    Mistake("the parentheses are missing: the rate is lr0 * (1 - t / T), not lr0 - t / T.",
            variant=linear_no_parentheses),
    NOT_ARRAY_API,
)


# --- inverse square root --------------------------------------------------------------

def inverse_sqrt_shifted(t, lr0):
    xp, s = as_steps(t)
    return lr0 / xp.sqrt(s + 1.0)


def inverse_sqrt_no_sqrt(t, lr0):
    xp, s = as_steps(t)
    return lr0 / xp.maximum(s, 1.0)


def _divides_by_zero(record: dict) -> bool:
    """At t = 0: an infinite rate, or a ZeroDivisionError."""
    out = record.get("output")
    infinite = isinstance(out, dict) and ("float" in out or any(isinstance(v, dict) for v in out.get("array", [])))
    return infinite or "ZeroDivisionError" in record.get("error", "") or "divide by zero" in record.get("error", "")


INVERSE_SQRT_CASES = (
    args_case("t = 0 (a Python int): treated as t = 1", 0, 0.1),
    args_case("t = 1 (a Python int)", 1, 0.1),
    args_case("t = 10000 (a Python int), lr0=1", 10000, 1.0),
    args_case("lr0=0.5, t = 0..20 (array)", run_steps(0, 21), 0.5),
    args_case("lr0=1e-3, steps of shape (2, 3)", steps(0, 1, 2, 3, 100, 4000, shape=(2, 3)), 1e-3),
    args_case("lr0=0.1, t = 0, 3, ..., 27, on array_api_strict", run_steps(0, 30, 3), 0.1, backend=STRICT),
)

INVERSE_SQRT_MISTAKES = (
    Mistake("at t = 0 the rate divides by sqrt(0) = 0: treat t = 0 as t = 1 (lr0 / sqrt(max(t, 1))).",
            when=_divides_by_zero),
    Mistake("the steps are shifted (lr0 / sqrt(t + 1)): the rate is lr0 / sqrt(t) for t >= 1, and only t = 0 is "
            "treated as 1.", variant=inverse_sqrt_shifted),
    Mistake("the square root is missing: the rate is lr0 / sqrt(t), not lr0 / t.", variant=inverse_sqrt_no_sqrt),
    NOT_ARRAY_API,
)


# --- linear warmup --------------------------------------------------------------------
# The schedules handed to linear_warmup (built in the case, never converted).

def constant(lr):
    def schedule(t):
        return lr + 0.0 * as_steps(t)[1]
    return schedule


def cosine(lr0, T):
    def schedule(t):
        xp, s = as_steps(t)
        return 0.5 * lr0 * (1.0 + xp.cos(math.pi * xp.minimum(s, float(T)) / T))
    return schedule


def decay_at(lr0, milestone):
    def schedule(t):
        xp, s = as_steps(t)
        return lr0 * 0.1 ** xp.astype(s >= milestone, xp.float64)
    return schedule


def warmup_from_zero(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    return xp.minimum(s / warmup_steps, 1.0) * schedule(t)


def warmup_never_reaches(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    return xp.where(s < warmup_steps, (s + 1.0) / (warmup_steps + 1), 1.0) * schedule(t)


def warmup_one_step_too_long(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    return xp.where(s <= warmup_steps, (s + 1.0) / warmup_steps, 1.0) * schedule(t)


def warmup_never_stops(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    return (s + 1.0) / warmup_steps * schedule(t)


def warmup_reversed(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    return xp.where(s < warmup_steps, (warmup_steps - s) / warmup_steps, 1.0) * schedule(t)


def warmup_restarts_schedule(t, warmup_steps, schedule):
    xp, s = as_steps(t)
    after = schedule(xp.maximum(s - warmup_steps, 0.0))
    return xp.where(s < warmup_steps, (s + 1.0) / warmup_steps * schedule(t), after)


WARMUP_CASES = (
    Case("5 warmup steps over a constant rate 0.1, t = 0..9", lambda rng: (run_steps(0, 10), 5, constant(0.1))),
    Case("10 warmup steps over cosine (lr0=1, T=100), t = 0, 3, ..., 120",
         lambda rng: (run_steps(0, 121, 3), 10, cosine(1.0, 100))),
    Case("t = 0 (a Python int), 4 warmup steps, constant rate 0.2", lambda rng: (0, 4, constant(0.2))),
    Case("t = 3 = warmup_steps - 1 (the last warmup step), 4 warmup steps, constant rate 0.2",
         lambda rng: (3, 4, constant(0.2))),
    Case("t = 4 = warmup_steps (the first step after warmup), cosine (lr0=0.5, T=20)",
         lambda rng: (4, 4, cosine(0.5, 20))),
    Case("t = 60 (past the warmup), step decay x0.1 at 50", lambda rng: (60, 8, decay_at(1.0, 50))),
    Case("6 warmup steps, step decay x0.1 at 3 (inside the warmup), t = 0..9",
         lambda rng: (run_steps(0, 10), 6, decay_at(0.3, 3))),
    Case("1 warmup step (no ramp), cosine (lr0=0.1, T=10), t = 0..12", lambda rng: (run_steps(0, 13), 1, cosine(0.1, 10))),
    Case("8 warmup steps over cosine (lr0=0.1, T=40), t = 0..23, on array_api_strict",
         lambda rng: (run_steps(0, 24), 8, cosine(0.1, 40)), backend=STRICT),
)

WARMUP_MISTAKES = (
    Mistake("the ramp starts at 0 (t / warmup_steps), so the first step does not move: it is (t + 1) / warmup_steps, "
            "which reaches 1 at the last warmup step.", variant=warmup_from_zero),
    Mistake("the ramp never reaches the schedule ((t + 1) / (warmup_steps + 1) jumps at the end): at "
            "t = warmup_steps - 1 the factor must be 1.", variant=warmup_never_reaches),
    Mistake("the warmup runs one step too long (t <= warmup_steps), so the rate overshoots the schedule at "
            "t = warmup_steps: ramp only while t < warmup_steps.", variant=warmup_one_step_too_long),
    Mistake("the ramp is never switched off: after the warmup the rate is schedule(t) itself, not "
            "schedule(t) * (t + 1) / warmup_steps.", variant=warmup_never_stops),
    Mistake("the ramp runs backwards and starts above 0 (at the full rate): it rises as (t + 1) / warmup_steps.",
            variant=warmup_reversed),
    Mistake("the schedule is restarted after the warmup (schedule(t - warmup_steps)): it keeps its own clock, "
            "so call schedule(t).", variant=warmup_restarts_schedule),
    NOT_ARRAY_API,
)


CHECKS = [
    Check("step_decay", run=run_schedule, cases=STEP_CASES, mistakes=STEP_MISTAKES),
    Check("cosine_decay", run=run_schedule, cases=COSINE_CASES, mistakes=COSINE_MISTAKES),
    Check("linear_decay", run=run_schedule, cases=LINEAR_CASES, mistakes=LINEAR_MISTAKES),
    Check("inverse_sqrt", run=run_schedule, cases=INVERSE_SQRT_CASES, mistakes=INVERSE_SQRT_MISTAKES),
    Check("linear_warmup", run=run_schedule, cases=WARMUP_CASES, mistakes=WARMUP_MISTAKES),
]

# Sample submissions (autograder/samples/04_schedules/): each is the reference
# with these definitions replaced, as a student would have written them.
SAMPLES = {
    "milestone_off_by_one": {"step_decay": step_decay_after_milestone},
    "decay_subtracted": {"step_decay": step_decay_subtracts},
    "cosine_degrees": {"cosine_decay": cosine_degrees},
    "not_held_after_T": {"cosine_decay": cosine_not_held, "linear_decay": linear_not_held},
    "inverse_sqrt_divides_by_zero": {
        "inverse_sqrt": """
            def inverse_sqrt(t, lr0):
                xp, steps = as_steps(t)
                return lr0 / xp.sqrt(steps)
        """,
    },
    "warmup_from_zero": {"linear_warmup": warmup_from_zero},
    "warmup_restarts_schedule": {"linear_warmup": warmup_restarts_schedule},
    "numpy_only": {
        "cosine_decay": """
            def cosine_decay(t, lr0, T, lr_min=0.0):
                t = np.minimum(t, T)
                return lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * t / T))
        """,
        "inverse_sqrt": """
            def inverse_sqrt(t, lr0):
                return lr0 / np.sqrt(np.maximum(t, 1))
        """,
    },
    "half_done": {
        "linear_decay": "def linear_decay(t, lr0, T):\n    raise NotImplementedError()",
        "linear_warmup": "def linear_warmup(t, warmup_steps, schedule):\n    raise NotImplementedError()",
    },
}
