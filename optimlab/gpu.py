"""The optional GPU cell's helpers: find CuPy and a CUDA device, and time the same run on several backends.

Student code marked [xp] gets its array library from its arguments, so running
it on a GPU only means handing it CuPy arrays. `cupy_or_none` says whether that
is possible here (and, if not, why), and `time_on_backends` runs one training
function on each backend's copy of the data and times it, waiting for the
device to finish before reading the clock.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def cupy_or_none() -> tuple[object | None, str]:
    """(the CuPy array namespace, a description of the device) when CuPy and a CUDA device are usable,
    else (None, one sentence saying why not)."""
    try:
        import cupy
    except ImportError:
        return None, ("CuPy is not installed (on a machine with an NVIDIA GPU: pip install cupy-cuda12x, "
                      "or the package matching your CUDA version).")
    except Exception as err:  # noqa: BLE001 - a broken CUDA installation raises anything on import
        return None, f"CuPy is installed but cannot be imported: {type(err).__name__}: {err}."
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - no driver, no device, or a driver too old
        return None, f"CuPy is installed but finds no usable CUDA device ({type(err).__name__}: {err})."
    if count == 0:
        return None, "CuPy is installed but finds no CUDA device."
    from array_api_compat import array_namespace

    xp = array_namespace(cupy.zeros(1))
    try:
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception:  # noqa: BLE001 - the name is only for the report
        name = "CUDA device 0"
    return xp, f"CuPy {cupy.__version__} on {name}"


def to_backend(data: dict, xp) -> dict:
    """A copy of `data` whose NumPy arrays are arrays of the namespace `xp`; other values are kept."""
    return {k: xp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in data.items()}


def synchronize(xp) -> None:
    """Waits for the device of `xp` to finish its queued work (a no-op for CPU libraries)."""
    if "cupy" in getattr(xp, "__name__", ""):  # cupy itself or array_api_compat.cupy
        import cupy

        cupy.cuda.Device().synchronize()


def time_on_backends(run: Callable, data: dict, backends: dict) -> dict:
    """Runs `run(xp, data_on_xp)` once per backend and times it.

    run: the training to time; gets the namespace and `data` converted to it
        (`to_backend`), returns a result (e.g. the validation accuracy).
    backends: {name: array namespace}, e.g. {"NumPy (CPU)": numpy, "GPU": cupy}.
    Returns {name: (result, seconds)} in the order of `backends`; the data
    transfer is not timed, the device is synchronized before and after.
    """
    report = {}
    for name, xp in backends.items():
        on_device = to_backend(data, xp)
        synchronize(xp)
        start = time.perf_counter()
        result = run(xp, on_device)
        synchronize(xp)
        report[name] = (result, time.perf_counter() - start)
    return report
