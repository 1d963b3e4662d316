"""05_dropout's optional GPU cell: it skips cleanly without CuPy, and its logic runs with array_api_strict
standing in for CuPy (the same student code, unchanged, on another array library)."""
import contextlib
import io
import sys
import types

import array_api_strict
import nbformat
import numpy as np
import pytest

from autograder.course import master_notebook
from autograder.reference import load_reference
from optimlab import gpu
from optimlab.data import get_cifar10_data

ref = load_reference("05_dropout")


def gpu_cell_source() -> str:
    cells = [c.source for c in nbformat.read(master_notebook("05_dropout"), as_version=4).cells
             if c.cell_type == "code" and "cupy_or_none()" in c.source]
    assert len(cells) == 1, "the notebook has one GPU cell"
    return cells[0]


@pytest.fixture(scope="module")
def small_data():
    data = get_cifar10_data(use_sample=True, bias_trick=False, dtype=np.float32)
    scale = data["X_train"].std()
    return {"X_train": data["X_train"][:200] / scale, "y_train": data["y_train"][:200],
            "X_val": data["X_val"] / scale, "y_val": data["y_val"]}


def notebook_namespace(small_data) -> dict:
    """The master notebook's definitions, with the capstone's settings shrunk to a few seconds."""
    namespace = dict(vars(ref))
    namespace.update(HIDDEN=32, BATCH=50, LR=1e-3, WEIGHT_DECAY=0.05, P_DROP=0.3, train_split=small_data,
                     num_features=small_data["X_train"].shape[1], iters_per_epoch=4, num_iters=4, warmup=2)
    capstone = namespace["capstone"]  # rebound to the namespace above, so that it reads these settings
    namespace["capstone"] = types.FunctionType(capstone.__code__, namespace, capstone.__name__, capstone.__defaults__)
    return namespace


def run_cell(namespace: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(gpu_cell_source(), "<gpu cell>", "exec"), namespace)  # noqa: S102 - the master notebook
    return out.getvalue()


@pytest.mark.skipif("cupy" in sys.modules or gpu.cupy_or_none()[0] is not None, reason="CuPy is installed here")
def test_without_cupy_the_cell_says_why_and_skips(small_data):
    xp, reason = gpu.cupy_or_none()
    assert xp is None and reason.startswith("CuPy is not installed")
    printed = run_cell(notebook_namespace(small_data))
    assert printed == f"GPU run skipped: {reason}\n"


class _FakeRuntime:
    def __init__(self, count=None, error=None):
        self.count, self.error = count, error

    def getDeviceCount(self):  # noqa: N802 - CuPy's name
        if self.error:
            raise self.error
        return self.count


@pytest.mark.parametrize("runtime,words", [
    (_FakeRuntime(error=RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")),
     "finds no usable CUDA device (RuntimeError: cudaErrorNoDevice"),
    (_FakeRuntime(count=0), "finds no CUDA device"),
])
def test_cupy_without_a_device_is_a_reason_to_skip(monkeypatch, runtime, words):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=runtime)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    xp, reason = gpu.cupy_or_none()
    assert xp is None and words in reason


def test_a_broken_cupy_import_is_a_reason_to_skip(monkeypatch):
    class Broken(types.ModuleType):
        def __getattr__(self, name):
            raise OSError("libcudart.so.12: cannot open shared object file")

    monkeypatch.setitem(sys.modules, "cupy", None)  # what Python does for a module that failed to import
    xp, reason = gpu.cupy_or_none()
    assert xp is None and reason.startswith("CuPy is not installed")
    monkeypatch.setitem(sys.modules, "cupy", Broken("cupy"))
    xp, reason = gpu.cupy_or_none()
    assert xp is None and "OSError" in reason


def test_the_cell_runs_the_student_code_unchanged_on_another_array_library(small_data):
    namespace = notebook_namespace(small_data)
    namespace["cupy_or_none"] = lambda: (array_api_strict, "array_api_strict standing in for CuPy")
    seen = []
    original = namespace["dropout_forward"]

    def watched(x, p, mode, rng):
        seen.append(type(x).__module__.split(".")[0])
        return original(x, p, mode, rng)

    namespace["dropout_forward"] = watched
    printed = run_cell(namespace).splitlines()
    assert printed[0] == "GPU: array_api_strict standing in for CuPy"
    assert printed[1].strip().startswith("NumPy (CPU): one epoch in") and printed[2].strip().startswith("GPU: one epoch in")
    assert printed[3].startswith("speed-up of the GPU over NumPy: ") and printed[3].endswith("x")
    assert set(seen) == {"numpy", "array_api_strict"}  # the student's dropout ran on both libraries
    # the same seeds and float32 arithmetic on both: the same validation accuracy
    assert printed[1].split("validation accuracy ")[1] == printed[2].split("validation accuracy ")[1]


def test_time_on_backends_converts_the_data_and_times_each_backend(small_data):
    seen = {}

    def run(xp, data):
        seen[xp.__name__] = type(data["X_train"]).__module__.split(".")[0]
        return float(xp.sum(data["X_train"][:3, :3]))

    report = gpu.time_on_backends(run, small_data, {"cpu": np, "strict": array_api_strict})
    assert list(report) == ["cpu", "strict"]
    assert seen == {"numpy": "numpy", "array_api_strict": "array_api_strict"}
    assert report["cpu"][0] == pytest.approx(report["strict"][0], rel=1e-6)
    assert all(seconds >= 0 for _, seconds in report.values())
    assert gpu.to_backend({"a": np.ones(2), "flag": True}, array_api_strict)["flag"] is True
