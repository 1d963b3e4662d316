"""Makes this Linux Python lack what macOS or Windows lacks, for tests/test_platforms.py.

Active only with `OPTIMLAB_SIMULATE=macos` or `windows` and this folder on
PYTHONPATH, in every Python process started so (grader, workers, sandbox,
kernel). The pieces are really missing, not mocked, so any code that needs
them fails as it would there:

- both: the C library ctypes gives for `CDLL(None)` is the dynamic loader
  (`ld-linux*.so`, a library that needs no other), which has no `unshare`,
  `mount`, `prctl` or `syscall`, as macOS's libc has no `unshare`, `mount` or
  `prctl` (any other library would do no better: looking a name up in it
  also searches the libc it needs);
- both: `os.setresuid` and `os.setresgid` do not exist (Python has them only
  where the C library does: not on macOS or Windows);
- macos: `setrlimit(RLIMIT_AS, ...)` raises ValueError("current limit exceeds
  maximum limit"), as macOS refuses an address-space limit;
- windows: `import resource` fails, `os.fork` does not exist, and ZeroMQ
  reports no IPC transport (`zmq.has("ipc")` is False, as for a libzmq built
  without it), so Jupyter talks to the kernel over TCP. (Python on Windows
  has no `socket.AF_UNIX` either, but on Linux asyncio's self-pipe needs it.)
"""
import os
import sys

SYSTEM = os.environ.get("OPTIMLAB_SIMULATE")


def _dynamic_loader() -> str:
    """The path of this process's dynamic loader, as mapped into it."""
    with open("/proc/self/maps") as maps:
        return next(line.split()[-1] for line in maps if "/ld-linux" in line or "/ld-musl" in line)


if SYSTEM in ("macos", "windows"):
    import ctypes

    LIBC_WITHOUT_NAMESPACES = _dynamic_loader()

    class _CDLL(ctypes.CDLL):
        def __init__(self, name, *args, **kwargs):
            super().__init__(LIBC_WITHOUT_NAMESPACES if name is None else name, *args, **kwargs)

    ctypes.CDLL = _CDLL
    # Neither has setresuid(): as root, the sandbox cannot switch the kernel to another user the Linux way.
    for _name in ("setresuid", "setresgid"):
        if hasattr(os, _name):
            delattr(os, _name)

if SYSTEM == "macos":
    import resource

    _setrlimit = resource.setrlimit

    def _setrlimit_as_macos(which, limits):
        if which == resource.RLIMIT_AS:
            raise ValueError("current limit exceeds maximum limit")
        return _setrlimit(which, limits)

    resource.setrlimit = _setrlimit_as_macos

if SYSTEM == "windows":
    import zmq

    sys.modules["resource"] = None  # `import resource` raises ImportError
    del os.fork
    _has = zmq.has
    zmq.has = lambda capability: capability != "ipc" and _has(capability)
