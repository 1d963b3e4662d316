"""High-precision numeric derivatives for the tests: an oracle independent of the course code."""
import numpy as np


def numeric_gradient(f, x, h=1e-4):
    """Gradient of the scalar function f(x) at the array x, changed in place and restored.

    Fourth-order central differences: (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h.
    """
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            x[i] = old + step
            values.append(f(x))
        x[i] = old
        grad[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def rel_error(a, b) -> float:
    """max(|a - b| / max(1e-8, |a| + |b|))."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
