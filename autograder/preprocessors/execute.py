"""Executing a submission: a limited kernel, time limits, and a kernel that may die."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute as NbgraderExecute
from traitlets import Dict, Integer, List, Unicode, default

GIB = 2**30
# Seconds a kernel gets to answer once a timed-out cell was interrupted. A
# healthy kernel answers at once; one whose message loop the student broke
# (builtins patched, KeyboardInterrupt swallowed) never does.
RESPONSE_TIMEOUT = 10


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through `autograder.sandbox` with the given options."""

    sandbox_args = List(Unicode(), help="Options of `python -m autograder.sandbox`.")

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        return [sys.executable, "-m", "autograder.sandbox", *self.sandbox_args, "--", *command]


# Run in the kernel after a cell ran out of memory: IPython keeps the failed
# cell's traceback, and with it every array the cell's frames still held.
RELEASE_MEMORY = """
import gc as _gc, sys as _sys
_sys.last_traceback = _sys.last_value = _sys.last_type = _sys.last_exc = None
get_ipython().InteractiveTB.tb = get_ipython().SyntaxTB.tb = None
get_ipython().last_execution_result = None
_gc.collect()
"""


@lru_cache(maxsize=None)
def font_cache_files() -> tuple[Path, ...]:
    """Matplotlib's font list as this interpreter built it (building it now if it never did).

    A grading kernel's matplotlib cache folder is a fresh scratch folder; seeded
    with this file, the kernel's first plot does not rescan the system's fonts.
    """
    try:
        import matplotlib
        import matplotlib.font_manager  # noqa: F401 - writes the font list into the cache folder if missing
    except ImportError:
        return ()
    return tuple(Path(matplotlib.get_cachedir()).glob("fontlist-*.json"))


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class Execute(NbgraderExecute):
    """nbgrader's Execute in a sandboxed kernel, in fast mode, within time limits.

    Limits (each configurable, e.g. `c.Execute.notebook_timeout = 900`):
    `timeout` seconds per cell, `notebook_timeout` seconds for the whole
    notebook, `memory_limit` bytes of address space and `file_size_limit`
    bytes per written file for the kernel. A cell over a limit gets an error
    output saying which; a kernel that dies (os._exit, a segfault) or a
    notebook out of time leaves the remaining cells unrun with that reason,
    and everything scored before stands; so does a kernel that no longer
    answers after a timed-out cell was interrupted, instead of costing the
    time limit once per remaining cell. Each limit hit is recorded, one
    sentence each, in `resources["optimlab_limits"]`.
    """

    # One BLAS thread per kernel: parallel workers already use every core.
    kernel_env = Dict({"OPTIMLAB_FAST": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "MKL_NUM_THREADS": "1"}, help="Variables added to the kernel's environment.").tag(config=True)
    notebook_timeout = Integer(600, help="Seconds the whole notebook may run.").tag(config=True)
    memory_limit = Integer(4 * GIB, help="Address-space limit of the kernel in bytes (0: none).").tag(config=True)
    file_size_limit = Integer(GIB // 4, help="Largest file the kernel may write, in bytes.").tag(config=True)
    protected_paths = List(Unicode(), help="Paths the kernel must not see (master notebooks, gradebook, ...).")\
        .tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    @default("shutdown_kernel")
    def _shutdown_immediately(self):
        # Everything the grade needs has been read from the kernel by then; a
        # graceful shutdown only waits (up to a second) for it to exit by itself.
        return "immediate"

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        cwd = self.resources.get("metadata", {}).get("path") or os.getcwd()
        km.sandbox_args = [f"--memory={self.memory_limit}", f"--file-size={self.file_size_limit}",
                           f"--writable={cwd}", f"--writable={self._scratch}",
                           *(f"--hide={p}" for p in self.protected_paths)]
        return km

    async def async_start_new_kernel(self, **kwargs):
        # HOME and the temporary folder point to a scratch folder: the rest is read-only.
        scratch = {name: self._scratch for name in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR")}
        kwargs.setdefault("env", {**os.environ, **scratch, **self.kernel_env})
        # What the kernel process prints itself (start-up notices) is not notebook output.
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        return await super().async_start_new_kernel(**kwargs)

    # nbclient binds its synchronous twin to the base class's coroutine.
    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess(self, nb, resources=None, km=None):
        self._limits: list[str] = []
        self._stopped: str | None = None
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.notebook_timeout
        self._scratch = tempfile.mkdtemp(prefix="optimlab-kernel-")
        for font_list in font_cache_files():
            shutil.copy(font_list, self._scratch)
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except DeadKernelError:  # died while starting or shutting down
            self._note("the kernel died outside any cell; nothing after that point ran")
        finally:
            self.timeout = self._cell_timeout
            shutil.rmtree(self._scratch, ignore_errors=True)
        resources["optimlab_limits"] = self._limits
        return nb, resources

    def _note(self, sentence: str) -> None:
        if sentence not in self._limits:
            self._limits.append(sentence)

    def _stop(self, reason: str) -> None:
        self._stopped = reason
        self._note(reason)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        remaining = self._deadline - time.monotonic()
        if self._stopped is None and remaining < 1:
            self._stop(f"the notebook time limit ({self.notebook_timeout} s) was reached at cell {index}; "
                       "that cell and the ones after it did not run")
        if self._stopped is not None:
            cell.outputs = [_error("NotRun", self._stopped)]
            return cell, resources
        self.timeout = int(min(self._cell_timeout, remaining))
        started = time.monotonic()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stop(f"the kernel died while running cell {index} (it exited, crashed or was killed); "
                       "the cells after it did not run")
            cell.outputs.append(_error("KernelDied", self._stopped))
            return cell, resources
        except Exception as err:  # noqa: BLE001 - a kernel broken by student code fails in many ways
            self._stop(f"the kernel stopped responding while running cell {index} ({type(err).__name__}); "
                       "the cells after it did not run")
            cell.outputs.append(_error("KernelUnresponsive", self._stopped))
            return cell, resources
        timed_out = self._record_limits(cell, index, timed_out=time.monotonic() - started >= self.timeout)
        if timed_out and not self._responds():
            self._stop(f"the kernel stopped responding after cell {index} was interrupted; "
                       "the cells after it did not run")
        return cell, resources

    def _record_limits(self, cell, index: int, timed_out: bool) -> bool:
        """Notes the limits a cell hit: its run time, or an error output that shows it.

        Returns whether the cell was stopped by a time limit.
        """
        enames = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
        timed_out = timed_out or "CellTimeoutError" in enames
        if timed_out:
            if self.timeout < self._cell_timeout:
                self._note(f"cell {index} was stopped by the notebook time limit ({self.notebook_timeout} s)")
            else:
                self._note(f"cell {index} was stopped by the per-cell time limit ({self._cell_timeout} s)")
        if "MemoryError" in enames:
            self._note(f"cell {index} ran out of memory (the limit is {self.memory_limit / GIB:g} GiB)")
            self._release_memory()
        return timed_out

    def _responds(self) -> bool:
        """Whether the kernel answers an empty request within RESPONSE_TIMEOUT seconds."""
        remaining = self._deadline - time.monotonic()
        if remaining < 1:
            return True   # out of notebook time anyway: the next cell is not run
        cell_timeout, self.timeout = self.timeout, int(min(RESPONSE_TIMEOUT, remaining))
        try:
            return self.wait_for_reply(self.kc.execute("", silent=True, store_history=False)) is not None
        except Exception:  # noqa: BLE001 - a dead or broken kernel does not respond
            return False
        finally:
            self.timeout = cell_timeout

    def _release_memory(self) -> None:
        """Frees what a failed cell still holds, so the next cells can allocate again."""
        try:
            self.wait_for_reply(self.kc.execute(RELEASE_MEMORY, silent=True, store_history=False))
        except Exception:  # noqa: BLE001 - best effort: the next cells show what it could not fix
            pass
