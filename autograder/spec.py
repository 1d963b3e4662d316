"""How a hidden test is described: checks, cases and known mistakes.

Every gradable function of an assignment has one `Check` in
`autograder/specs/<assignment>.py`. A check is data:

- `cases`: seeded inputs. The same case is rebuilt in the student's kernel
  (where the student's function runs) and in the grader (where the reference
  from the master notebook runs), from the same seed, so no expected value
  ever enters the student's kernel.
- `run`: how one case is evaluated (call the function, or drive an update rule
  for several steps, ...). It is shared by both sides.
- `mistakes`: recognisable wrong variants. A failed case whose output matches a
  variant's output gets that variant's message as its diagnosis.

Values crossing the kernel boundary are encoded with `encode`/`decode`, which
keep NaN and infinities (JSON has neither) and the shapes of arrays.
"""
from __future__ import annotations

import copy
import hashlib
import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


def call_with_args(fn: Callable, args: tuple) -> Any:
    """Default runner: `fn(*args)`."""
    return fn(*args)


@dataclass(frozen=True)
class Case:
    """One seeded input of a check.

    make: `make(rng) -> tuple` of positional arguments, built from a
        `numpy.random.Generator` seeded by the case's name.
    backend: None for NumPy arrays, or the name of another Array-API module
        (e.g. "array_api_strict") the array arguments are converted to in the
        student's kernel.
    """

    name: str
    make: Callable[[np.random.Generator], tuple]
    backend: str | None = None


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer, and what to tell the student who made it.

    variant: a wrong implementation with the function's signature; a failed
        case whose output matches the variant's output is diagnosed.
    when: alternatively a predicate on the student's case record (a dict with
        "output", "error", "mutated"), for mistakes that are behaviours
        rather than values (inputs changed in place, a crash on big inputs).
    hidden_only: why the visible self-checks are meant not to catch this
        mistake (so that they do not become the answer key), or None when
        the self-check of the function should (`autograder.self_checks`).
    """

    message: str
    variant: Callable | None = None
    when: Callable[[dict], bool] | None = None
    hidden_only: str | None = None


@dataclass(frozen=True)
class Check:
    """The hidden test of one function (or one answer value)."""

    name: str
    cases: Sequence[Case]
    run: Callable[[Callable, tuple], Any] = call_with_args
    mistakes: Sequence[Mistake] = field(default_factory=tuple)
    rtol: float = 1e-7
    # A check of a plain value (a multiple-choice answer) compares the value
    # itself; `run` then receives the value instead of a function.
    is_value: bool = False


def look_up_answer(answers: dict, args: tuple):
    """Runner of a check of autograded answers: one entry of the student's dictionary per case."""
    return answers[args[0]]


def answer_case(key: str) -> Case:
    """The case of a check of autograded answers that looks at entry `key`."""
    return Case(key, lambda rng: (key,))


def case_rng(assignment: str, check: str, case: str) -> np.random.Generator:
    """The generator a case is built from; the same on both sides of the kernel."""
    seed = zlib.crc32(f"{assignment}/{check}/{case}".encode())
    return np.random.default_rng(seed)


def build_args(assignment: str, check: Check, case: Case) -> tuple:
    """The positional arguments of `case`, freshly built (NumPy arrays)."""
    return tuple(case.make(case_rng(assignment, check.name, case.name)))


# --- values across the kernel boundary -------------------------------------------

def to_numpy(x: Any) -> Any:
    """Converts arrays of any Array-API library (and nested containers) to NumPy."""
    if isinstance(x, np.ndarray) or np.isscalar(x) or x is None:
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(to_numpy(v) for v in x)
    if isinstance(x, dict):
        return {k: to_numpy(v) for k, v in x.items()}
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError):
            pass
    if hasattr(x, "get"):  # CuPy arrays copy to the host with .get()
        return np.asarray(x.get())
    return np.asarray(x)


def _encode_float(v: float) -> Any:
    return v if math.isfinite(v) else {"float": repr(v)}


def encode(x: Any) -> Any:
    """A JSON-safe form of a nested value of numbers, strings, arrays and containers."""
    x = to_numpy(x)
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, np.bool_):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        return _encode_float(float(x))
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            return {"unsupported": f"array of dtype {x.dtype}"}
        flat = [_encode_float(float(v)) for v in x.ravel()]
        return {"array": flat, "shape": list(x.shape), "kind": x.dtype.kind}
    if isinstance(x, (list, tuple)):
        return {"seq": [encode(v) for v in x], "tuple": isinstance(x, tuple)}
    if isinstance(x, dict):
        return {"dict": {str(k): encode(v) for k, v in x.items()}}
    return {"unsupported": type(x).__name__}


def _decode_float(v: Any) -> float:
    return float(v["float"]) if isinstance(v, dict) else v


def decode(x: Any) -> Any:
    """Inverse of `encode`."""
    if not isinstance(x, dict):
        return x
    if "float" in x:
        return float(x["float"])
    if "array" in x:
        dtype = {"b": bool, "i": np.int64, "u": np.int64}.get(x["kind"], np.float64)
        values = [_decode_float(v) for v in x["array"]]
        return np.array(values, dtype=dtype).reshape(x["shape"])
    if "seq" in x:
        items = [decode(v) for v in x["seq"]]
        return tuple(items) if x["tuple"] else items
    if "dict" in x:
        return {k: decode(v) for k, v in x["dict"].items()}
    return x  # {"unsupported": ...} stays as it is and never matches


def digest(args: tuple) -> str:
    """A fingerprint of a case's inputs, to notice inputs altered in the kernel."""
    return hashlib.sha256(repr(encode(args)).encode()).hexdigest()[:16]


def snapshot(args: tuple) -> tuple:
    """A deep copy of the arguments, to notice a function that changes them in place."""
    return copy.deepcopy(args)


# --- comparing values -------------------------------------------------------------

def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max(|a - b| / max(1e-8, |a| + |b|)); equal non-finite entries count as equal."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    err = np.where(same, 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return float(err.max()) if err.size else 0.0


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} values"
    if x is None:
        return "None"
    return f"a {type(x).__name__}"


def compare(expected: Any, got: Any, rtol: float) -> tuple[float, str | None]:
    """(relative error, None) when `got` has the structure of `expected`,
    else (inf, a sentence on how the structure differs)."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return math.inf, f"expected a dict, got {_describe(got)}"
        worst = 0.0
        for key, value in expected.items():
            if key not in got:
                return math.inf, f"the result has no entry {key!r}"
            err, why = compare(value, got[key], rtol)
            if why:
                return err, why
            worst = max(worst, err)
        return worst, None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return math.inf, f"expected {_describe(expected)}, got {_describe(got)}"
        worst = 0.0
        for e, g in zip(expected, got):
            err, why = compare(e, g, rtol)
            if why:
                return err, why
            worst = max(worst, err)
        return worst, None
    if isinstance(expected, str) or isinstance(got, str):
        return (0.0, None) if expected == got else (math.inf, None)
    if expected is None or got is None:
        return (0.0, None) if expected is got else (math.inf, f"expected {_describe(expected)}, got {_describe(got)}")
    if isinstance(got, dict):  # {"unsupported": ...}
        return math.inf, f"got a value of type {got.get('unsupported', 'unknown')}"
    e = np.asarray(expected)
    g = np.asarray(got)
    if e.shape != g.shape:
        if e.ndim == 0:
            return math.inf, f"expected a single number, got an array of shape {g.shape}"
        return math.inf, f"expected shape {e.shape}, got {g.shape}"
    return rel_error(e, g), None
