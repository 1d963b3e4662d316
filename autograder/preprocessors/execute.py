"""Executing a submission: a limited kernel, time limits, and a kernel that may die."""
from __future__ import annotations

import errno
import getpass
import json
import os
import shutil
import socket
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
from traitlets import Bool, Dict, Integer, List, Unicode, default

from autograder import sandbox

GIB, MIB = 2**30, 2**20
# Seconds a kernel gets to answer once a timed-out cell was interrupted. A
# healthy kernel answers at once; one whose message loop the student broke
# (builtins patched, KeyboardInterrupt swallowed) never does.
RESPONSE_TIMEOUT = 10
# Longest path of a Unix socket (108 bytes on Linux, 104 on macOS), with room for the "-N" suffix.
MAX_SOCKET_PATH = 100


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through `autograder.sandbox` with the given options."""

    sandbox_args = List(Unicode(), help="Options of `python -m autograder.sandbox`.")
    wrapped = Bool(True, help="Whether the kernel is started through the sandbox (see `sandbox.can_wrap`).")

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if not self.wrapped:
            return command
        return [sys.executable, "-m", "autograder.sandbox", *self.sandbox_args, "--", *command]


def kernels_folder() -> Path:
    """The folder holding every grading kernel's own folder (sockets, scratch) of this user.

    Every kernel gets it hidden but for its own folder: no kernel reaches
    another's sockets or connection file.
    """
    folder = Path(tempfile.gettempdir()) / f"optimlab-kernels-{getpass.getuser()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():  # planted by someone else
        raise PermissionError(f"{folder} belongs to another user; remove it before grading.")
    return folder


def _remove(path: Path) -> None:
    """Removes a file, a link or a whole folder."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def ipc_transport_available(socket_path: str) -> bool:
    """Whether the kernel can talk to the grader over Unix sockets (Jupyter's IPC transport) at this path.

    Python offers no Unix sockets on Windows, and a socket's path has a short maximum length.
    """
    import zmq

    return hasattr(socket, "AF_UNIX") and zmq.has("ipc") and len(socket_path) <= MAX_SOCKET_PATH


def folder_size(folder: Path) -> int:
    """Bytes of the files under `folder` (symbolic links not followed), 0 if it is gone."""
    total = 0
    for path in folder.rglob("*") if folder.is_dir() else []:
        try:
            total += path.lstat().st_size
        except OSError:  # removed meanwhile
            pass
    return total


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
    bytes per written file and `disk_limit` bytes written in all (its
    submission folder and scratch folder together), and no network
    (`isolate_network`). A cell over a limit gets an error
    output saying which; a kernel that dies (os._exit, a segfault) or a
    notebook out of time leaves the remaining cells unrun with that reason,
    and everything scored before stands; so does a kernel that no longer
    answers after a timed-out cell was interrupted, instead of costing the
    time limit once per remaining cell. Each limit hit is recorded, one
    sentence each, in `resources["optimlab_limits"]`, after one sentence per
    protection this system could not put in force (`autograder.sandbox`).

    The kernel's own folder (`_kernel_dir`) holds `home/` (its HOME and
    temporary folder), `ipc/` (its connection file, its Unix sockets and the
    sandbox's report) and `disk/` (where the sandbox mounts the disk cap).
    """

    # One BLAS thread per kernel: parallel workers already use every core.
    kernel_env = Dict({"OPTIMLAB_FAST": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "MKL_NUM_THREADS": "1"}, help="Variables added to the kernel's environment.").tag(config=True)
    notebook_timeout = Integer(600, help="Seconds the whole notebook may run.").tag(config=True)
    memory_limit = Integer(4 * GIB, help="Address-space limit of the kernel in bytes (0: none).").tag(config=True)
    file_size_limit = Integer(GIB // 4, help="Largest file the kernel may write, in bytes.").tag(config=True)
    disk_limit = Integer(GIB // 2, help="Bytes the kernel may write in all, in its submission folder and "
                                        "scratch folder together (0: no cap).").tag(config=True)
    isolate_network = Bool(True, help="Run the kernel without network (IPC transport in a network namespace) "
                                      "where the system allows it.").tag(config=True)
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
        ipc = self._kernel_dir / "ipc"
        km.connection_file = str(ipc / "kernel.json")
        no_network = self.isolate_network and ipc_transport_available(str(ipc / "kernel-1"))
        if no_network:
            km.transport, km.ip = "ipc", str(ipc / "kernel")
        km.wrapped = sandbox.can_wrap()
        km.sandbox_args = [f"--memory={self.memory_limit}", f"--file-size={self.file_size_limit}",
                           f"--writable={self._cwd}", f"--writable={self._scratch}",
                           f"--connection-file={km.connection_file}", f"--report={ipc / 'sandbox.json'}",
                           f"--disk={self.disk_limit}", f"--disk-root={self._kernel_dir / 'disk'}",
                           *(["--no-network"] if no_network else []),
                           *(f"--hide={p}" for p in [*self.protected_paths, str(self._kernel_dir.parent)])]
        if self.isolate_network and not no_network:
            self._tcp_only = True
        return km

    async def async_start_new_kernel(self, **kwargs):
        # HOME and the temporary folder point to a scratch folder: the rest is read-only.
        scratch = {name: self._scratch for name in ("HOME", "TMPDIR", "MPLCONFIGDIR", "IPYTHONDIR")}
        kwargs.setdefault("env", {**os.environ, **scratch, **self.kernel_env})
        # What the kernel process prints itself (start-up notices) is not notebook output.
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        if not sandbox.can_wrap():
            kwargs["env"]["OPTIMLAB_SANDBOX"] = "partial: started without the sandbox (not supported on this system)"
        return await super().async_start_new_kernel(**kwargs)

    def _missing_protections(self) -> dict[str, str]:
        """{protection: why not} for those the sandbox could not put in force, from its report.

        The sandbox writes the report before it starts the kernel, so it is
        there once the kernel answers; read once, then kept.
        """
        if self._missing is None and getattr(self, "km", None) is not None:
            report = self._kernel_dir / "ipc" / "sandbox.json"
            if not self.km.wrapped:
                wanted = sandbox.requested(self.memory_limit, self.file_size_limit, self.isolate_network,
                                           self.disk_limit)
                self._missing = {name: sandbox.NOT_SUPPORTED for name in wanted}
            elif report.exists():
                recorded = json.loads(report.read_text())
                self._missing, self._kernel_user = recorded["missing"], recorded.get("user")
                if self._tcp_only:
                    self._missing[sandbox.NETWORK] = sandbox.NOT_SUPPORTED
        return self._missing or {}

    def _missing_notes(self) -> list[str]:
        """One sentence per protection this system could not put in force."""
        notes = []
        for name, reason in self._missing_protections().items():
            if name == sandbox.DISK:
                reason += f"; what the kernel wrote was measured after each cell instead ({self._disk_mib()} at most)"
            notes.append(f"graded without {name}: {reason}")
        return notes

    # nbclient binds its synchronous twin to the base class's coroutine.
    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess(self, nb, resources=None, km=None):
        self._limits: list[str] = []
        self._stopped: str | None = None
        self._cell_timeout = self.timeout
        self._deadline = time.monotonic() + self.notebook_timeout
        self._missing: dict[str, str] | None = None  # read from the sandbox's report (`_missing_protections`)
        self._kernel_user: int | None = None  # the kernel's own user id, from the same report
        self._tcp_only = False
        self._cwd = Path((resources or {}).get("metadata", {}).get("path") or os.getcwd()).resolve()
        self._kernel_dir = Path(tempfile.mkdtemp(prefix="kernel-", dir=kernels_folder()))
        self._scratch = self._kernel_dir / "home"
        for folder in (self._scratch, self._kernel_dir / "ipc"):
            folder.mkdir()
        for font_list in font_cache_files():
            shutil.copy(font_list, self._scratch)
        self._submitted = set(self._cwd.rglob("*"))  # what was there before the kernel
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except DeadKernelError:  # died while starting or shutting down
            self._note("the kernel died outside any cell; nothing after that point ran")
        finally:
            self.timeout = self._cell_timeout
            self._missing_protections()  # before its report goes
            if self._kernel_user is not None:  # a user of its own, without a pid namespace to end with it
                sandbox.end_processes_of(self._kernel_user)
            shutil.rmtree(self._kernel_dir, ignore_errors=True)
        resources["optimlab_limits"] = self._missing_notes() + self._limits
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
        if self._stopped is None and sandbox.DISK in self._missing_protections() and self._over_disk_budget():
            self._stop(f"after cell {index} the kernel had written more than the disk cap "
                       f"({self._disk_mib()}); what it wrote was removed and the cells after it did not run")
            self._remove_written()
        return cell, resources

    def _disk_mib(self) -> str:
        return f"{self.disk_limit / MIB:g} MiB"

    def _written_folders(self) -> list[Path]:
        """Where the kernel may write: its submission folder, its scratch folder, its socket folder."""
        return [self._cwd, self._scratch, self._kernel_dir / "ipc"]

    def _over_disk_budget(self) -> bool:
        """Whether the kernel's folders hold more than `disk_limit` bytes (where no tmpfs caps them)."""
        return self.disk_limit > 0 and sum(folder_size(f) for f in self._written_folders()) > self.disk_limit

    def _remove_written(self) -> None:
        """Removes every file the kernel added to the submission folder, and its scratch files."""
        for path in sorted(set(self._cwd.rglob("*")) - self._submitted, reverse=True):
            _remove(path)
        for path in self._scratch.iterdir():
            _remove(path)

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
        evalues = " ".join(str(o.get("evalue", "")) for o in cell.get("outputs", []) if o.get("output_type") == "error")
        if f"[Errno {errno.ENOSPC}]" in evalues:
            self._note(f"cell {index} ran out of disk space (the kernel may write {self._disk_mib()} in all)")
        if f"[Errno {errno.EFBIG}]" in evalues:
            self._note(f"cell {index} tried to write a file larger than the limit "
                       f"({self.file_size_limit / MIB:g} MiB)")
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
