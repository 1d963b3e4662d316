"""Starts a grading kernel inside limits: `python -m autograder.sandbox [options] -- KERNEL COMMAND`.

Student code is untrusted. Before it runs, this wrapper puts in force every
protection this system offers, each tried on its own:

- resource limits: address space (`--memory`), size of any file written
  (`--file-size`), no core files;
- with Linux namespaces (root, or unprivileged user namespaces):
  - a private view of the file system: every path given with `--hide` becomes
    an empty read-only folder (the master notebooks, the sample submissions,
    the git history, the gradebook, other students' work and other kernels'
    folders), everything is read-only except the `--writable` folders (the
    submission's own folder and a scratch folder) and the folder of the
    kernel's connection file (`--connection-file`), which is sealed read-only
    once the kernel has bound its sockets there;
  - a disk cap (`--disk` bytes): the writable folders become private copies
    on one size-limited tmpfs (mounted at `--disk-root`), so what the kernel
    writes in all of them together cannot exceed it; nothing it writes there
    outlives the kernel;
  - no network (`--no-network`): a network namespace of its own with no
    interface up, so the kernel reaches neither 127.0.0.1 nor anything outside.
    The kernel then talks to the grader through Unix sockets in the folder of
    its connection file (Jupyter's IPC transport), which work across network
    namespaces;
  - process isolation: its own process-id namespace, so it can neither see
    nor signal the grader;
  - when run as root, the kernel keeps no capability, so it can undo none of
    the above.
- as root where namespaces are refused (a container such as Gradescope's, which
  withholds the capability to mount): the kernel runs as an unprivileged user
  of its own instead (`--user`, default: a user id of its own per kernel, else
  `nobody`), which owns only the `--writable` folders; the connection folder
  stays root's, open to create sockets in but sticky. The `--hide` paths are
  closed to it by their permissions instead: each loses its group and other
  permissions, except the way down to a writable folder inside it, which may
  be crossed but not listed (the kernels' own folders beside it are private
  from their creation). Before switching, a probe as that user checks it can
  run the kernel's Python and reach its folders; if it cannot, the kernel
  stays root and the notes say why. The grader ends what a user id of its own
  left running (`end_processes_of`).

What is unavailable is skipped, never fatal: the environment variable
`OPTIMLAB_SANDBOX` tells the kernel (and the grader's tests) what is in force,
and `--report FILE` receives the same as JSON for the grader's notes
(`autograder.preprocessors.execute`). This is not a container: see the README
for what it does and does not defend against.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

try:
    import resource
except ImportError:  # Windows has no resource limits
    resource = None

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (unified syscall table)
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522

NOT_SUPPORTED = "not supported on this system"

# The protections, as the grading notes name them ("graded without a memory limit: ...").
MEMORY = "a memory limit"
FILE_SIZE = "a file size limit"
NO_CORE = "the ban on core files"
FILES = "a private file system"
PROCESSES = "process isolation"
NETWORK = "network isolation"
DISK = "a disk cap"
NO_CAPABILITIES = "dropping root's capabilities"
UNPRIVILEGED = "an unprivileged user"

NOBODY = 65534  # the user id of `nobody` where the system has no such user in its database
OWN_IDS = range(200_000, 300_000)  # a kernel's user id of its own is taken from these


def _load_libc():
    """The C library of this process, or None where ctypes cannot name it (Windows)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):
        return None


_libc = _load_libc()


class Unsupported(Exception):
    """A protection this system does not offer (a missing module, C function or system call)."""


def _c_function(name: str):
    """`name` from the C library; Unsupported where it has none (macOS has no `unshare`, `prctl`)."""
    function = getattr(_libc, name, None) if _libc is not None else None
    if function is None:
        raise Unsupported(f"no {name}() in the C library")
    return function


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def why_not(action, *args) -> str | None:
    """None if `action(*args)` succeeds, else why this system does not allow it, in words."""
    try:
        action(*args)
    except Unsupported:
        return NOT_SUPPORTED
    except (OSError, ValueError) as err:  # refused: a limit above the maximum (macOS's RLIMIT_AS), EPERM, ...
        return f"refused by this system ({getattr(err, 'strerror', None) or err})"
    return None


class Protections:
    """What is in force, protection by protection: `missing` maps a protection to why it is not."""

    def __init__(self) -> None:
        self.applied: list[str] = []
        self.missing: dict[str, str] = {}
        self.user: int | None = None  # the user id the kernel runs as, when not this process's own

    def attempt(self, name: str, action, *args) -> bool:
        """Runs `action(*args)`; records `name` as applied, or as missing with the reason."""
        reason = why_not(action, *args)
        if reason is None:
            self.applied.append(name)
        else:
            self.missing[name] = reason
        return reason is None

    def skip(self, name: str, reason: str) -> None:
        if name in self.applied:
            self.applied.remove(name)
        self.missing[name] = reason

    def summary(self) -> str:
        """The value of OPTIMLAB_SANDBOX: `complete (what is in force)` or `partial: without X: why; ...`."""
        if not self.missing:
            return f"complete ({', '.join(self.applied)})"
        return "partial: " + "; ".join(f"without {name}: {why}" for name, why in self.missing.items())

    def as_json(self) -> dict:
        return {"applied": self.applied, "missing": self.missing, "user": self.user}


# --- resource limits ---------------------------------------------------------------------------

def _set_limit(which: str, value: int) -> None:
    if resource is None or not hasattr(resource, which):
        raise Unsupported(which)
    # macOS refuses RLIMIT_AS ("current limit exceeds maximum limit"): a ValueError, recorded.
    resource.setrlimit(getattr(resource, which), (value, value))


def set_limits(protections: Protections, memory: int, file_size: int) -> None:
    """Address-space and file-size limits and no core files, each on its own."""
    if memory > 0:
        protections.attempt(MEMORY, _set_limit, "RLIMIT_AS", memory)
    if file_size > 0:
        protections.attempt(FILE_SIZE, _set_limit, "RLIMIT_FSIZE", file_size)
    protections.attempt(NO_CORE, _set_limit, "RLIMIT_CORE", 0)


# --- namespaces --------------------------------------------------------------------------------

def _unshare(flags: int, what: str) -> None:
    _check(_c_function("unshare")(flags), f"unshare ({what})")


def enter_user_namespace() -> None:
    """An unprivileged user namespace mapping only our own ids (not needed as root)."""
    uid, gid = os.getuid(), os.getgid()
    _unshare(CLONE_NEWUSER, "user namespace")
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_c_function("mount")(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _set_readonly(path: str, readonly: bool, recursive: bool) -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY if readonly else 0, 0 if readonly else MOUNT_ATTR_RDONLY, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    _check(_c_function("syscall")(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr),
                                  ctypes.sizeof(attr)), f"mount_setattr {path}")


def _private_copies(held: dict[str, int], disk: int, disk_root: str) -> dict[str, str]:
    """Copies of the held folders on one tmpfs of `disk` bytes: {folder: its copy}.

    The tmpfs also caps the number of files (one per 4 KiB of the cap), since
    empty files take memory but no space.
    """
    os.makedirs(disk_root, exist_ok=True)  # a no-op unless it was hidden
    _mount("tmpfs", disk_root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={disk},nr_inodes={max(disk // 4096, 1024)},mode=700")
    copies = {}
    try:
        for index, (path, fd) in enumerate(held.items()):
            copies[path] = os.path.join(disk_root, str(index))
            shutil.copytree(f"/proc/self/fd/{fd}", copies[path], symlinks=True)
    except OSError:
        _check(_c_function("umount2")(disk_root.encode(), 0), f"umount {disk_root}")
        raise
    return copies


def restrict_filesystem(protections: Protections, hide: list[str], writable: list[str], connection_dir: str | None,
                        disk: int, disk_root: str | None, cwd: str) -> None:
    """In the new mount namespace: `hide` emptied, everything read-only but `writable` and `connection_dir`.

    With a `disk` cap, the writable folders are private copies on one tmpfs
    (the connection folder stays shared: the grader connects through it).
    """
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    # A writable folder may lie inside a hidden one: hold it open to bind it back.
    shared = [connection_dir] if connection_dir else []
    held = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in writable + shared}
    for path in hide:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", 0, "size=64k,mode=755")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
    sources = {path: f"/proc/self/fd/{fd}" for path, fd in held.items()}
    if disk > 0 and disk_root:
        copied = {path: held[path] for path in writable}
        protections.attempt(DISK, lambda: sources.update(_private_copies(copied, disk, disk_root)))
    for path, source in sources.items():
        os.makedirs(path, exist_ok=True)  # a no-op unless it was hidden
        _mount(source, path, None, MS_BIND)
    for fd in held.values():
        os.close(fd)
    _set_readonly("/", True, recursive=True)
    for path in sources:
        _set_readonly(path, False, recursive=False)
    # The working directory still points into the mounts as they were: enter it again.
    os.chdir(cwd if os.path.isdir(cwd) else "/")


def drop_capabilities() -> None:
    """No capability survives the exec of the kernel, even as root: it cannot unmount or leave anything."""
    prctl = _c_function("prctl")
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for capability in range(last + 1):
        _check(prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), "drop capabilities")
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable, twice: all empty
    _check(_c_function("capset")(header, data), "capset")
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


# --- an unprivileged user, where namespaces are refused to root ------------------------------

def _user_ids(user: str | None) -> list[int]:
    """The user ids to try for the kernel, best first: `user` alone if given, else one of the kernel's
    own (so kernels graded at once cannot reach each other's processes) and then `nobody`."""
    if user:
        if user.isdigit():
            return [int(user)]
        import pwd
        try:
            return [pwd.getpwnam(user).pw_uid]
        except KeyError:
            raise ValueError(f"there is no user {user}") from None
    try:
        import pwd
        nobody = pwd.getpwnam("nobody").pw_uid
    except (ImportError, KeyError):
        nobody = NOBODY
    # Above the ids a system hands out to its users; a container whose ids are remapped may refuse it.
    return [OWN_IDS.start + os.getpid() % len(OWN_IDS), nobody]


def end_processes_of(uid: int) -> None:
    """Kills every process of `uid`, a kernel's own user id: what the kernel left behind (no pid namespace
    ends it). Ids shared between kernels, such as nobody's, are left alone."""
    if uid not in OWN_IDS or not hasattr(os, "setresuid"):
        return
    child = os.fork()
    if child == 0:
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)  # every process this user may signal, but this one
        finally:
            os._exit(0)
    os.waitpid(child, 0)


def _within(path: str, folder: str) -> bool:
    return path != folder and os.path.commonpath([path, folder]) == folder


def close_hidden(hide: list[str], keep: list[str]) -> None:
    """Without a private file system: the `hide` paths closed to other users by their permissions.

    A hidden folder holding a kept folder (the kernel's writable ones) stays
    crossable, not listable, down to it; what lies beside that way below the
    hidden folder is closed. The hidden folder's own entries are left as they
    are: they are other kernels' and jobs' folders, private since their creation
    (closing them here would close their kernels' way too).
    """
    keep = [os.path.realpath(k) for k in keep]
    for path in (os.path.realpath(h) for h in hide):
        if not os.path.exists(path):
            continue
        inside = [k for k in keep if _within(k, path)]
        if not inside:
            if path not in keep:
                os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~0o077)
            continue
        way = {path}
        for kept in inside:
            folder = os.path.dirname(kept)
            while folder != path:
                way.add(folder)
                folder = os.path.dirname(folder)
        for folder in way:
            os.chmod(folder, stat.S_IMODE(os.stat(folder).st_mode) & ~0o066 | 0o011)  # cross, not list
            if folder == path:
                continue
            for entry in os.scandir(folder):
                if entry.path not in way and entry.path not in keep and not entry.is_symlink():
                    os.chmod(entry.path, stat.S_IMODE(entry.stat().st_mode) & ~0o077)


def give_to(uid: int, folders: list[str]) -> None:
    """`folders` and everything in them owned by `uid` (its own group too)."""
    for folder in folders:
        os.chown(folder, uid, uid)
        for parent, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.lchown(os.path.join(parent, name), uid, uid)


def become(uid: int) -> None:
    """This process as `uid`, for good: no other group, no way back to root, no set-user-id program."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _check(_c_function("prctl")(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")


def _can_run_as(uid: int, executable: str, folders: list[str], readable: list[str]) -> str | None:
    """None if `uid` can run `executable` and write in `folders`, else why not (probed in a child).

    A Python kernel must also import the course's helper library as that user
    (its installation may lie in a folder only root may enter).
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        try:
            become(uid)
            checks = [(executable, os.X_OK), *((f, os.W_OK | os.X_OK) for f in folders),
                      *((r, os.R_OK) for r in readable)]
            reason = next((f"user {uid} cannot reach {path}" for path, mode in checks
                           if not os.access(path, mode)), "")
            if not reason and os.path.basename(executable).startswith("python") and subprocess.call(
                    [executable, "-c", "import optimlab"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, cwd=folders[0] if folders else "/", timeout=120) != 0:
                reason = f"user {uid} cannot import the course's library with {executable}"
        except (OSError, Unsupported, subprocess.TimeoutExpired) as err:
            reason = f"cannot become user {uid} ({getattr(err, 'strerror', None) or err})"
        os.write(write_end, reason.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        reason = answer.read().decode()
    os.waitpid(child, 0)
    return reason or None


def choose_user(args, command: list[str]) -> int:
    """The user id the kernel will run as: its writable folders given to it, the hidden paths closed to it.

    The connection folder stays root's, open to anyone to create in but sticky,
    so the kernel binds its sockets there but cannot replace the sandbox's
    report beside them. Raises PermissionError with the reason when no
    candidate can run the kernel.
    """
    writable = [os.path.abspath(p) for p in args.writable]
    connection = [os.path.abspath(args.connection_file)] if args.connection_file else []
    sockets = [os.path.dirname(c) for c in connection]
    close_hidden([os.path.abspath(p) for p in args.hide], writable + sockets)
    modes = {folder: stat.S_IMODE(os.stat(folder).st_mode) for folder in sockets}
    for folder in sockets:
        os.chmod(folder, 0o1733)
    executable = shutil.which(command[0]) or command[0]
    reasons = []
    for uid in _user_ids(args.user):
        give_to(uid, writable)
        for path in connection:
            os.chown(path, uid, uid)
        reason = _can_run_as(uid, executable, writable + sockets, connection)
        if reason is None:
            return uid
        reasons.append(reason)
    give_to(0, writable)
    for path in connection:
        os.chown(path, 0, 0)
    for folder, mode in modes.items():
        os.chmod(folder, mode)
    raise PermissionError(1, "; ".join(reasons))


# --- running the kernel ------------------------------------------------------------------------

def _socket_paths(connection_file: str) -> list[str]:
    """The Unix sockets a kernel binds for the connection file (IPC transport), or [] for TCP."""
    try:
        with open(connection_file) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return []
    if info.get("transport") != "ipc":
        return []
    return [f"{info['ip']}-{port}" for key, port in info.items() if key.endswith("_port")]


def _seal_when_bound(connection_file: str | None, child: int) -> None:
    """Makes the connection folder read-only once the kernel has bound its sockets there.

    Until then the kernel must create them; after, nothing more may be written
    there (it is outside the disk cap). Returns early if the child exits.
    """
    sockets = _socket_paths(connection_file) if connection_file else []
    if not sockets:
        return
    while not all(os.path.exists(p) for p in sockets):
        if os.waitpid(child, os.WNOHANG)[0]:
            return
        time.sleep(0.01)
    try:
        _set_readonly(os.path.dirname(connection_file), True, recursive=False)
    except (OSError, Unsupported):
        pass  # the grader's budget check still measures that folder


def _run_as_init(command: list[str], drop: bool, connection_file: str | None, uid: int | None) -> int:
    """Forks the command as pid 1 of the new pid namespace (as `uid` if given) and waits for it."""
    child = os.fork()
    if child == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with this wrapper, whatever kills it
        try:
            # A /proc of this pid namespace: the outer one would show the grader's
            # processes, and through /proc/<pid>/root its view of the file system.
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            os.environ["OPTIMLAB_SANDBOX"] += "; the outer /proc is visible"
        if uid is not None:
            become(uid)  # checked by the parent before forking
        elif drop:
            drop_capabilities()  # checked by the parent before forking
        os.execvp(command[0], command)
    # SIGINT reaches the child through the process group; termination is forwarded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, _f: os.kill(child, s))
    _seal_when_bound(connection_file, child)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    return os.waitstatus_to_exitcode(status)


def can_wrap() -> bool:
    """Whether a kernel can be started through this wrapper here.

    The wrapper replaces itself with the kernel (exec), so the grader's handle
    on the process is the kernel's; where there is no fork there is no such
    exec either (Windows emulates it with a new process), and the grader
    starts the kernel directly.
    """
    return hasattr(os, "fork")


def requested(memory: int, file_size: int, no_network: bool, disk: int) -> list[str]:
    """The protections a sandbox asked for these options tries."""
    wanted = [MEMORY] * (memory > 0) + [FILE_SIZE] * (file_size > 0) + [NO_CORE, FILES, PROCESSES]
    return wanted + [NETWORK] * no_network + [DISK] * (disk > 0)


def apply(args, cwd: str, command: list[str]) -> tuple[Protections, bool, int | None]:
    """Puts every protection asked for by `args` in force that this system allows.

    Returns them, whether the command must run as init of a new pid namespace,
    and the user id to run it as (None: as this process's user).
    """
    protections = Protections()
    as_root = hasattr(os, "getuid") and os.getuid() == 0
    refused = None if as_root else why_not(enter_user_namespace)
    if refused is not None:  # no namespace at all
        for name in [FILES, PROCESSES] + [NETWORK] * args.no_network + [DISK] * (args.disk > 0):
            protections.skip(name, refused)
    else:
        connection_dir = os.path.dirname(os.path.abspath(args.connection_file)) if args.connection_file else None
        disk_root = os.path.abspath(args.disk_root) if args.disk_root else None
        if args.disk > 0 and not disk_root:
            protections.skip(DISK, "no --disk-root to mount it on")
        if not protections.attempt(FILES, lambda: (
                _unshare(CLONE_NEWNS, "mount namespace"),
                restrict_filesystem(protections, [os.path.abspath(p) for p in args.hide],
                                    [os.path.abspath(p) for p in args.writable], connection_dir,
                                    args.disk, disk_root, cwd))) and args.disk > 0:
            protections.skip(DISK, protections.missing[FILES])
        if args.no_network:
            protections.attempt(NETWORK, _unshare, CLONE_NEWNET, "network namespace")
        if hasattr(os, "fork"):
            protections.attempt(PROCESSES, _unshare, CLONE_NEWPID, "pid namespace")
        else:
            protections.skip(PROCESSES, NOT_SUPPORTED)
        if as_root and protections.applied:
            # Checked here; the kernel's process drops them right before its exec.
            protections.attempt(NO_CAPABILITIES, lambda: (_c_function("prctl"), _c_function("capset")))
    uid = None
    if as_root and FILES in protections.missing and hasattr(os, "setresuid"):
        chosen = []
        if protections.attempt(UNPRIVILEGED, lambda: chosen.append(choose_user(args, command))):
            uid = chosen[0]
    set_limits(protections, args.memory, args.file_size)
    return protections, PROCESSES in protections.applied, uid


def _exec(command: list[str]) -> int:
    if can_wrap():
        os.execvp(command[0], command)
    return subprocess.call(command)  # no exec that keeps the process: wait for the command instead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--memory", type=int, default=0, help="address-space limit in bytes (0: none)")
    parser.add_argument("--file-size", type=int, default=0, help="largest file the kernel may write, in bytes")
    parser.add_argument("--hide", action="append", default=[], help="a path the kernel must not see")
    parser.add_argument("--writable", action="append", default=[], help="a folder the kernel may write to")
    parser.add_argument("--connection-file", help="the kernel's connection file: its folder holds the IPC sockets")
    parser.add_argument("--no-network", action="store_true", help="a network namespace with no interface up")
    parser.add_argument("--disk", type=int, default=0, help="bytes all writable folders may hold together (0: no cap)")
    parser.add_argument("--disk-root", help="an empty folder to mount the capped tmpfs on")
    parser.add_argument("--report", help="a JSON file to write what is in force into, before the kernel starts")
    parser.add_argument("--user", help="the user (name or id) to run the kernel as when root has no namespaces "
                                       "(default: an id of its own, else nobody)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no kernel command given after --")
    for path in args.writable:
        if not os.path.isdir(path):
            parser.error(f"no folder {path}")
    protections, as_init, uid = apply(args, os.getcwd(), command)
    protections.user = uid
    os.environ["OPTIMLAB_SANDBOX"] = protections.summary()
    if args.report:
        with open(args.report, "w") as f:
            json.dump(protections.as_json(), f)
    if as_init:  # children are born in the new pid namespace: run the command as its init
        return _run_as_init(command, NO_CAPABILITIES in protections.applied, args.connection_file, uid)
    if uid is not None:
        become(uid)
    elif NO_CAPABILITIES in protections.applied:
        drop_capabilities()
    return _exec(command)


if __name__ == "__main__":
    sys.exit(main())
