"""Starts a grading kernel inside limits: `python -m autograder.sandbox [options] -- KERNEL COMMAND`.

Student code is untrusted. Before it runs, this wrapper

- sets resource limits: address space (`--memory`), size of any file written
  (`--file-size`), no core dumps;
- where Linux namespaces are available (root, or unprivileged user
  namespaces), gives the kernel a private view of the file system: every path
  given with `--hide` becomes an empty read-only folder (the master notebooks,
  the sample submissions, the git history, the gradebook and other students'
  work), the whole file system is read-only except the `--writable` folders
  (the submission's own folder and a scratch folder), and the kernel runs in
  its own process-id namespace, so it cannot see or signal the grader.

Where namespaces are not available only the resource limits apply; the
environment variable `OPTIMLAB_SANDBOX` tells the kernel (and the grader's
tests) which protection is in force. This is not a container: see the README
for what it does and does not defend against.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (unified syscall table)
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _set_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else MOUNT_ATTR_RDONLY, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    _check(_libc.syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr),
                         ctypes.sizeof(attr)), f"mount_setattr {path}")


def set_limits(memory: int, file_size: int) -> None:
    """Address-space and file-size limits; no core files."""
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if file_size > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def enter_namespaces() -> None:
    """New mount and pid namespaces (and a user namespace when not root)."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | (0 if uid == 0 else CLONE_NEWUSER)
    _check(_libc.unshare(flags), "unshare")
    if flags & CLONE_NEWUSER:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")


def restrict_filesystem(hide: list[str], writable: list[str], cwd: str) -> None:
    """In the new mount namespace: `hide` emptied, everything read-only but `writable`."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    # A writable folder may lie inside a hidden one: hold it open to bind it back.
    held = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in writable}
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", 0, "size=64k,mode=755")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
    for path, fd in held.items():
        os.makedirs(path, exist_ok=True)  # a no-op unless it was hidden
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
        os.close(fd)
    _set_readonly("/", True, recursive=True)
    for path in writable:
        _set_readonly(path, False, recursive=False)
    # The working directory still points into the mounts as they were: enter it again.
    os.chdir(cwd if os.path.isdir(cwd) else "/")


def _run_as_init(command: list[str]) -> int:
    """Forks the command as pid 1 of the new pid namespace and waits for it."""
    child = os.fork()
    if child == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with this wrapper, whatever kills it
        try:
            # A /proc of this pid namespace: the outer one would show the grader's
            # processes, and through /proc/<pid>/root its view of the file system.
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            os.environ["OPTIMLAB_SANDBOX"] = "namespaces, but the outer /proc is visible"
        os.execvp(command[0], command)
    # SIGINT reaches the child through the process group; termination is forwarded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, _f: os.kill(child, s))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    return os.waitstatus_to_exitcode(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--memory", type=int, default=0, help="address-space limit in bytes (0: none)")
    parser.add_argument("--file-size", type=int, default=0, help="largest file the kernel may write, in bytes")
    parser.add_argument("--hide", action="append", default=[], help="a path the kernel must not see")
    parser.add_argument("--writable", action="append", default=[], help="a folder the kernel may write to")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no kernel command given after --")
    entered = False
    try:
        cwd = os.getcwd()
        writable = [os.path.abspath(p) for p in args.writable]
        for path in writable:
            if not os.path.isdir(path):
                raise FileNotFoundError(2, f"no folder {path}")
        enter_namespaces()
        entered = True
        restrict_filesystem([os.path.abspath(p) for p in args.hide], writable, cwd)
        os.environ["OPTIMLAB_SANDBOX"] = "namespaces"
    except OSError as err:
        os.environ["OPTIMLAB_SANDBOX"] = f"limits only ({err.strerror or err})"
    set_limits(args.memory, args.file_size)
    if entered:  # children are born in the new pid namespace: run the command as its init
        return _run_as_init(command)
    os.execvp(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
