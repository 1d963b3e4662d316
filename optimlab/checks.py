"""Visible self-checks: print the student's number next to the expected one.

Each check prints one line starting with "PASS" or raises an AssertionError
whose message starts with "FAIL" and says what to look at. The hidden tests
are separate and much more thorough: passing these is necessary, not
sufficient.
"""
from __future__ import annotations

import numpy as np


def _fmt(x, digits: int = 4) -> str:
    x = np.asarray(x)
    if x.ndim == 0:
        return f"{float(x):.{max(digits, 6)}g}"
    return np.array2string(x, precision=digits, separator=", ", threshold=12)


def _fmt_pair(got: np.ndarray, expected: np.ndarray) -> tuple[str, str]:
    """Both values printed with the fewest digits that show they differ.

    A FAIL line with "yours 0.9, expected 0.9" tells a student nothing, so
    digits are added (up to what a float holds) until the two texts differ.
    """
    for digits in range(4, 18):
        texts = _fmt(got, digits), _fmt(expected, digits)
        if texts[0] != texts[1]:
            break
    return texts


def _worst(got: np.ndarray, expected: np.ndarray, error: np.ndarray) -> str:
    """Where an array is furthest off: "; worst entry (i, j): yours a, expected b"."""
    if got.ndim == 0:
        return ""
    index = np.unravel_index(int(np.nanargmax(np.where(np.isnan(error), np.inf, error))), got.shape)
    yours, expected_text = _fmt_pair(got[index], expected[index])
    where = ", ".join(str(int(i)) for i in index)
    return f"; worst entry [{where}]: yours {yours}, expected {expected_text}"


def _as_arrays(label: str, got, expected) -> tuple[np.ndarray, np.ndarray]:
    """The two values as float arrays of the same shape, or a FAIL saying why not."""
    if got is None:
        raise AssertionError(f"FAIL {label}: got None. Did you forget a return statement?")
    got_a = np.asarray(got, dtype=float)
    exp_a = np.asarray(expected, dtype=float)
    if got_a.shape != exp_a.shape:
        raise AssertionError(f"FAIL {label}: expected shape {exp_a.shape}, got shape {got_a.shape}.")
    return got_a, exp_a


def check_close(label: str, got, expected, tol: float = 1e-6, hint: str = "") -> None:
    """Passes when every entry of `got` is within `tol` (absolute) of `expected`.

    The lecture's numbers are rounded, so pass the rounding as `tol`
    (e.g. tol=0.05 for a number printed with one decimal).
    """
    got_a, exp_a = _as_arrays(label, got, expected)
    error = np.abs(got_a - exp_a)
    if not bool(np.all(error <= tol)):
        yours, expected_text = _fmt_pair(got_a, exp_a)
        raise AssertionError(f"FAIL {label}: yours {yours}, expected {expected_text}"
                             f"{_worst(got_a, exp_a, error)} (tolerance {tol:g}). {hint}".rstrip())
    print(f"PASS {label}: yours {_fmt(got_a)}, expected {_fmt(exp_a)}")


def check_rel_error(label: str, got, expected, max_rel: float = 1e-7, hint: str = "") -> None:
    """Passes when the relative error of `got` against `expected` is at most `max_rel`.

    Relative error: max(|a - b| / max(1e-8, |a| + |b|)), as used throughout the course.
    """
    a, b = _as_arrays(label, got, expected)
    errors = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    err = float(np.max(errors)) if a.size else 0.0
    if not err <= max_rel:
        raise AssertionError(f"FAIL {label}: relative error {err:.2e} > {max_rel:.0e}"
                             f"{_worst(a, b, errors) if a.size else ''}. {hint}".rstrip())
    print(f"PASS {label}: relative error {err:.2e}")


def check_unchanged(label: str, array, original, hint: str = "") -> None:
    """Passes when `array` still holds the values of `original`, a copy taken before a call.

    A function that writes into an array it was given (`w -= ...`, `x[...] = ...`)
    changes the caller's data; the FAIL calls it an in-place write and names an
    entry that changed. NaN counts as equal to NaN.
    """
    now, before = np.asarray(array), np.asarray(original)
    if now.shape != before.shape:
        raise AssertionError(f"FAIL {label}: its shape changed in place from {before.shape} to {now.shape}. "
                             f"{hint}".rstrip())
    changed = ~((now == before) | (np.isnan(now) & np.isnan(before))) if now.dtype.kind == "f" else now != before
    if np.any(changed):
        index = np.unravel_index(int(np.argmax(changed)), now.shape)
        where = f" [{', '.join(str(int(i)) for i in index)}]" if now.ndim else ""
        yours, was = _fmt_pair(now[index], before[index])
        raise AssertionError(f"FAIL {label}: it was changed in place ({int(np.sum(changed))} of {now.size} "
                             f"entries; entry{where} is now {yours}, was {was}). {hint}".rstrip())
    print(f"PASS {label}")


def check_leaves_inputs(name: str, fn, inputs: dict, *rest):
    """Calls `fn(*inputs.values(), *rest)` and checks that it left every array of `inputs` as it was.

    name: the function's name, for the labels ("adam leaves w unchanged").
    inputs: {argument name: array}, the first positional arguments in order;
        arrays made for this call only, so that nothing else sees a write.
    rest: the remaining positional arguments.
    Returns what `fn` returned, for further checks.
    """
    before = {key: np.array(value, copy=True) for key, value in inputs.items()}
    out = fn(*inputs.values(), *rest)
    for key, value in inputs.items():
        check_unchanged(f"{name} leaves {key} unchanged", value, before[key],
                        f"Compute a new array instead of writing into {key} ({key} -= ..., {key} *= ..., "
                        f"{key}[...] = ...): the caller may still need {key}.")
    return out


def check_true(label: str, condition: bool, hint: str = "") -> None:
    """Passes when `condition` holds."""
    if not condition:
        raise AssertionError(f"FAIL {label}. {hint}".rstrip())
    print(f"PASS {label}")
