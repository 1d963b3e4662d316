"""Root in a container that refuses namespaces, as Gradescope's and Docker's do, made real on Linux.

Docker gives root no CAP_SYS_ADMIN, so `unshare` of a mount, network or
process-id namespace fails with EPERM. A process started with
`preexec_fn=in_a_container(...)` has that capability removed from its bounding
set before it runs its program, so neither it nor anything it starts can have
it: the sandbox meets exactly the refusal it meets there.

There, the kernel then runs as another user, who must be able to run the
kernel's Python, as every user can on Gradescope's image. Here Python may lie
in root's private home (pyenv's /root/.pyenv): before giving the capability
up, the process enters a mount namespace of its own in which each private
folder on the way to the `shared` paths is replaced by a crossable one holding
only that way (the real folders are left untouched).
"""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from autograder.sandbox import CLONE_NEWNS, MS_BIND, MS_PRIVATE, MS_REC, PR_CAPBSET_DROP, _c_function, _check, \
    _mount, _unshare

CAP_SYS_ADMIN = 21


def _open_the_way(path: Path) -> None:
    """Every folder above `path` that others cannot cross, replaced by a crossable one holding only the way on."""
    for depth in range(1, len(path.parts)):
        folder, below = Path(*path.parts[:depth]), Path(*path.parts[:depth + 1])
        if os.stat(folder).st_mode & stat.S_IXOTH:
            continue
        held = os.open(below, os.O_RDONLY)
        _mount("tmpfs", str(folder), "tmpfs", 0, "mode=755")
        below.mkdir() if os.path.isdir(f"/proc/self/fd/{held}") else below.touch()
        _mount(f"/proc/self/fd/{held}", str(below), None, MS_BIND)
        os.close(held)


def in_a_container(*shared: Path):
    """A `preexec_fn`: `shared` reachable by every user, then no CAP_SYS_ADMIN for the program and its children."""
    def preexec() -> None:
        # The sandbox's own mount helpers; what the sandbox does after this is what is under test.
        _unshare(CLONE_NEWNS, "mount namespace")
        _mount("none", "/", None, MS_REC | MS_PRIVATE)
        for path in shared:
            _open_the_way(Path(path).resolve())
        _check(_c_function("prctl")(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0), "drop CAP_SYS_ADMIN")
    return preexec


def processes_of(uids) -> list[int]:
    """The pids of live (not zombie) processes whose real user id is in `uids`."""
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # ended meanwhile
        if int(fields["Uid"].split()[0]) in uids and not fields["State"].strip().startswith("Z"):
            pids.append(int(status.parent.name))
    return pids


def python_installation() -> Path:
    """The folder of this Python's installation (the venv's base): the kernel's Python runs from it."""
    return Path(sys.base_prefix)


def why_not_here() -> str | None:
    """None if this machine can play the container, else why not (for a skip)."""
    if not hasattr(os, "getuid") or os.getuid() != 0:
        return "only root meets the container's refusal (the tests run as another user)"
    return None
