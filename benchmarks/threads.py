"""How many threads NumPy's BLAS and PyTorch use, read and set at run time.

NumPy has no API for its BLAS thread count; the OpenBLAS it ships with
exports `*_get_num_threads` / `*_set_num_threads`, found here among the
libraries loaded into this process (what threadpoolctl does, without the dependency).
"""
from __future__ import annotations

import contextlib
import ctypes
import sys
from functools import lru_cache

import numpy  # noqa: F401 - loads the BLAS library looked for below

# Symbol prefixes of OpenBLAS builds: NumPy's wheels (scipy-openblas, 64-bit ints) and system builds.
_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("64_", "")


@lru_cache(maxsize=None)
def _openblas() -> tuple[ctypes.CDLL, str] | None:
    """The loaded OpenBLAS and its symbol prefix+suffix pattern, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:  # not Linux: the thread count is then neither read nor set
        return None
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                    return lib, f"{prefix}_{{}}{suffix}"
    return None


def blas_threads() -> int | None:
    """Threads NumPy's BLAS uses now (None when it is not an OpenBLAS this can find)."""
    found = _openblas()
    if found is None:
        return None
    lib, pattern = found
    return int(getattr(lib, pattern.format("get_num_threads"))())


def blas_config() -> str | None:
    """OpenBLAS's own description of its build (version, kernel, threading)."""
    found = _openblas()
    if found is None:
        return None
    lib, pattern = found
    get_config = getattr(lib, pattern.format("get_config"))
    get_config.restype = ctypes.c_char_p
    return get_config().decode()


def set_blas_threads(n: int) -> None:
    found = _openblas()
    if found is not None:
        lib, pattern = found
        getattr(lib, pattern.format("set_num_threads"))(int(n))


@contextlib.contextmanager
def thread_count(n: int):
    """NumPy's BLAS and PyTorch (if imported) both use `n` threads inside the block."""
    before = blas_threads()
    torch = _torch()
    torch_before = torch.get_num_threads() if torch else None
    set_blas_threads(n)
    if torch:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if before is not None:
            set_blas_threads(before)
        if torch:
            torch.set_num_threads(torch_before)


def _torch():
    """PyTorch if this process has imported it (importing it only to set threads would cost seconds)."""
    return sys.modules.get("torch")
