"""The grading kernel's sandbox (#14): no network, a disk cap, and what it reports.

A batch of submissions is graded as the instructor grades a class while this
test's own servers listen: on 127.0.0.1 (TCP and UDP), on an abstract Unix
socket, and on a Unix socket in another kernel's folder. One submission tries
to reach each of them, a public address, and to undo the sandbox as root
would; the others fill the disk three ways. Each must score exactly what its
correct answers earn, with the right notes, and nothing must arrive.
"""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

import container

from autograder import sandbox
from autograder.adversarial import ANSWERS
from autograder.collect import find_submissions
from autograder.course import REPO_ROOT, SAMPLES, Limits
from autograder.grading import grade_all
from autograder.preprocessors.execute import kernels_folder

pytestmark = pytest.mark.slow
ASSIGNMENT = "01_losses"
FULL = 25.0
DISK = 32 * 2**20
LIMITS = Limits(cell_timeout=60, notebook_timeout=300, disk_limit=DISK)
PLATFORMS = Path(__file__).parent / "platforms"

# Prepended to the first answer cell; prints what each attempt gave (an errno name, or "reached").
PROBE = """
import ctypes, errno, json, os, socket
def _attempt(family, kind, address):
    s = socket.socket(family, kind)
    s.settimeout(5)
    try:
        if kind == socket.SOCK_DGRAM:
            s.sendto(b"hello", address)
        else:
            s.connect(address)
            s.sendall(b"hello")
        return "reached"
    except socket.timeout:
        return "timeout"
    except OSError as err:
        return errno.errorcode.get(err.errno, str(err))
    finally:
        s.close()
def _escape():
    # As root: unmount this /proc to find the outer one, and join the grader's network from there.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(b"/proc", 2) != 0:
        return "umount: " + errno.errorcode[ctypes.get_errno()]
    try:
        fd = os.open("/proc/1/ns/net", os.O_RDONLY)
    except OSError as err:
        return "umounted /proc, then open: " + errno.errorcode[err.errno]
    if libc.setns(fd, 0x40000000) != 0:
        return "setns: " + errno.errorcode[ctypes.get_errno()]
    return _attempt(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", {tcp}))
_attempts = {{
    "tcp to 127.0.0.1": _attempt(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", {tcp})),
    "udp to 127.0.0.1": _attempt(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", {udp})),
    "tcp to a public address": _attempt(socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 53)),
    "udp to a public address": _attempt(socket.AF_INET, socket.SOCK_DGRAM, ("1.1.1.1", 53)),
    "abstract unix socket": _attempt(socket.AF_UNIX, socket.SOCK_STREAM, {abstract!r}),
    "another kernel's socket": _attempt(socket.AF_UNIX, socket.SOCK_STREAM, {other!r}),
    "leave the sandbox, then tcp to 127.0.0.1": _escape(),
}}
print("ATTEMPTS " + json.dumps(_attempts))
"""
EXPECTED_ATTEMPTS = {
    "tcp to 127.0.0.1": "ENETUNREACH",
    "udp to 127.0.0.1": "ENETUNREACH",
    "tcp to a public address": "ENETUNREACH",
    "udp to a public address": "ENETUNREACH",
    "abstract unix socket": "ECONNREFUSED",     # abstract names belong to a network namespace
    "another kernel's socket": "ENOENT",        # every other kernel's folder is hidden
    "leave the sandbox, then tcp to 127.0.0.1": "umount: EPERM",  # root keeps no capability
}

# Fills the disk in the l1_reg answer cell, before its function: that cell fails, nothing else.
FILLS = {
    "fills_one_file": "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(bytes(2**20))",
    "fills_small_files": "import os\nos.makedirs('junk', exist_ok=True)\n"
                         "for i in range(10**6):\n    open(f'junk/{i}', 'wb').write(bytes(4096))",
    "fills_empty_files": "import os, tempfile\nfor i in range(10**7):\n"
                         "    open(os.path.join(tempfile.gettempdir(), f'e{i}'), 'w').close()",
}
L1_REG_POINTS = 2.0


class Listeners:
    """This test's own servers, each recording whatever reaches it."""

    def __init__(self, other_kernel_socket: Path):
        self.reached: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract_name = f"\0optimlab-test-{os.getpid()}"
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind(self.abstract_name)
        self.abstract.listen()
        self.path = socket.socket(socket.AF_UNIX)
        self.path.bind(str(other_kernel_socket))
        self.path.listen()
        self.servers = {"tcp": self.tcp, "abstract": self.abstract, "another kernel": self.path}
        for name, server in self.servers.items():
            threading.Thread(target=self._accept, args=(name, server), daemon=True).start()
        threading.Thread(target=self._receive, daemon=True).start()

    def _accept(self, name, server):
        while True:
            try:
                server.accept()
            except OSError:
                return
            self.reached.append(name)

    def _receive(self):
        while True:
            try:
                self.udp.recvfrom(100)
            except OSError:
                return
            self.reached.append("udp")

    def close(self):
        for server in [*self.servers.values(), self.udp]:
            server.shutdown(socket.SHUT_RDWR) if server.type == socket.SOCK_STREAM else None
            server.close()


def _submission(folder: Path, name: str, grade_id: str, code: str) -> None:
    nb = nbformat.read(SAMPLES / ASSIGNMENT / "reference.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = code.strip() + "\n" + cell.source
    nbformat.write(nb, folder / f"{name}.ipynb")


def _cell(course: Path, student: str, grade_id: str):
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / "losses.ipynb", as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(course, {student: Result}, what reached the listeners) for the network and disk batch."""
    folder = tmp_path_factory.mktemp("class") / ASSIGNMENT
    folder.mkdir()
    other = kernels_folder() / f"kernel-other-{os.getpid()}"
    other.mkdir()
    listeners = Listeners(other / "kernel-1")
    try:
        _submission(folder, "network", ANSWERS[0], PROBE.format(
            tcp=listeners.tcp.getsockname()[1], udp=listeners.udp.getsockname()[1],
            abstract=listeners.abstract_name, other=str(other / "kernel-1")))
        for name, code in FILLS.items():
            _submission(folder, name, "l1_reg", code)
        (folder / "reference.ipynb").write_bytes((SAMPLES / ASSIGNMENT / "reference.ipynb").read_bytes())
        course = tmp_path_factory.mktemp("course")
        results = grade_all(find_submissions(folder.parent), course, workers=2, limits=LIMITS)
    finally:
        listeners.close()
        (other / "kernel-1").unlink()
        other.rmdir()
    return course, {r.student: r for r in results}, listeners.reached


def test_the_sandbox_reports_every_protection_in_force_here():
    done = subprocess.run([sys.executable, "-m", "autograder.sandbox", "--memory=4000000000", "--file-size=1000000",
                           "--no-network", f"--disk={DISK}", f"--disk-root={kernels_folder() / 'unused'}", "--",
                           sys.executable, "-c", "import os; print(os.environ['OPTIMLAB_SANDBOX'])"],
                          capture_output=True, text=True, check=True)
    in_force = sandbox.requested(1, 1, True, 1) + ([sandbox.NO_CAPABILITIES] if os.getuid() == 0 else [])
    assert done.stdout.startswith("complete ("), done.stdout
    assert set(done.stdout.strip().removeprefix("complete (").removesuffix(")").split(", ")) == set(in_force)


def test_no_network_reaches_out_of_the_kernel(graded):
    course, results, reached = graded
    outputs = "".join(o.get("text", "") for o in _cell(course, "network", ANSWERS[0]).outputs)
    attempts = json.loads(outputs.split("ATTEMPTS ", 1)[1].splitlines()[0])
    assert attempts == EXPECTED_ATTEMPTS
    assert reached == []
    assert results["network"].score == FULL and results["network"].notes == []


@pytest.mark.parametrize("name", sorted(FILLS))
def test_filling_the_disk_costs_only_that_cell(graded, name):
    course, results, _ = graded
    result = results[name]
    assert result.score == FULL - L1_REG_POINTS, (result.problem, result.notes)
    [error] = [o for o in _cell(course, name, "l1_reg").outputs if o.output_type == "error"]
    assert error.ename == "OSError" and "No space left on device" in error.evalue
    assert any("ran out of disk space (the kernel may write 32 MiB in all)" in n for n in result.notes)
    # What it wrote lived in the kernel's own capped copy, gone with it.
    assert sorted(p.name for p in (course / "autograded" / name / ASSIGNMENT).iterdir()) == \
        ["losses.ipynb", "timestamp.txt"]
    feedback = result.feedback.read_text()
    assert "Grading notes" in feedback and "ran out of disk space" in feedback


def test_the_batch_goes_on(graded):
    _, results, _ = graded
    assert results["reference"].score == FULL and results["reference"].notes == []


def test_without_namespaces_the_disk_budget_is_checked_after_each_cell(tmp_path):
    """As on macOS: no tmpfs, so what the kernel wrote is measured after each cell and removed when over."""
    folder = tmp_path / "class" / ASSIGNMENT
    folder.mkdir(parents=True)
    writes = "for i in range(3):\n    open(f'part{i}.bin', 'wb').write(bytes(20 * 2**20))"
    _submission(folder, "writes_60_mib", "ridge_fit", writes)
    env = {**os.environ, "OPTIMLAB_SIMULATE": "macos", "PYTHONPATH": str(PLATFORMS)}
    course = tmp_path / "course"
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder.parent), "--course-dir", str(course),
                    "--disk-mib", "32"], env=env, capture_output=True, check=True)
    nb = nbformat.read(course / "autograded" / "writes_60_mib" / ASSIGNMENT / "losses.ipynb", as_version=4)
    notes = nb.metadata["optimlab"]["limits"]
    assert any("graded without a disk cap: not supported on this system; what the kernel wrote was measured "
               "after each cell instead (32 MiB at most)" == n for n in notes), notes
    assert any("had written more than the disk cap (32 MiB); what it wrote was removed" in n for n in notes), notes
    assert not list((course / "autograded" / "writes_60_mib" / ASSIGNMENT).glob("part*.bin"))
    with (course / "class_grades.csv").open() as f:
        [row] = csv.DictReader(f)
    assert row["score"] == "22.00"  # all but ridge_fit's 3 points: the cells after the one over the cap did not run


# --------------------------------------------------- root in a container that refuses namespaces

CONTAINER = container.why_not_here()
# Run as the kernel: what each attempt on the grader's files gave (the content, True, or the error's name).
ATTEMPTS = """
import json, os, sys
base = sys.argv[1]
def attempt(action):
    try:
        return action()
    except OSError as err:
        return type(err).__name__
print(json.dumps({
    "user": os.getuid(),
    "sandbox": os.environ["OPTIMLAB_SANDBOX"],
    "read the master": attempt(lambda: open(f"{base}/hidden/job/master.txt").read()),
    "list the hidden folder": attempt(lambda: sorted(os.listdir(f"{base}/hidden"))),
    "list its own job": attempt(lambda: sorted(os.listdir(f"{base}/hidden/job"))),
    "write results.json": attempt(lambda: open(f"{base}/results/results.json", "w").write("{}") > 0),
    "write in its folder": attempt(lambda: open("answer.txt", "w").write("42") > 0),
    "write in its home": attempt(lambda: open(f"{base}/kernels/k1/home/cache", "w").write("x") > 0),
    "read its connection file": attempt(lambda: open(f"{base}/kernels/k1/ipc/kernel.json").read()),
    "replace the sandbox's report": attempt(lambda: os.replace(f"{base}/kernels/k1/home/cache",
                                                               f"{base}/kernels/k1/ipc/sandbox.json") or True),
    "become root again": attempt(lambda: os.setuid(0) or True),
}))
"""
AS_ROOT = {"read the master": "secret", "list the hidden folder": ["job"],
           "list its own job": ["master.txt", "work"], "write results.json": True}
DENIED = {"read the master": "PermissionError", "list the hidden folder": "PermissionError",
          "list its own job": "PermissionError", "write results.json": "PermissionError",
          "write in its folder": True, "write in its home": True, "read its connection file": "{}",
          "replace the sandbox's report": "PermissionError", "become root again": "PermissionError"}


@pytest.fixture
def container_layout(tmp_path):
    """A grader's folders as the sandbox sees them."""
    base = tmp_path
    base.chmod(0o755)  # as the grader's temporary folder is (pytest makes its own private)
    (base / "hidden" / "job" / "work").mkdir(parents=True)
    (base / "hidden").chmod(0o700)
    (base / "hidden" / "job" / "master.txt").write_text("secret")
    for folder in ("ipc", "home"):
        (base / "kernels" / "k1" / folder).mkdir(parents=True)
    (base / "kernels").chmod(0o700)
    (base / "kernels" / "k1" / "ipc" / "kernel.json").write_text("{}")
    (base / "kernels" / "k1" / "ipc" / "kernel.json").chmod(0o600)
    (base / "results").mkdir()
    (base / "attempts.py").write_text(ATTEMPTS)
    return base


def _in_container(base: Path, kernel: list[str], *options: str) -> dict:
    """The sandbox, run as root without CAP_SYS_ADMIN, starting `kernel` on the attempts: what they gave."""
    ipc = base / "kernels" / "k1" / "ipc"
    done = subprocess.run([sys.executable, "-m", "autograder.sandbox", "--memory=4000000000",
                           f"--writable={base / 'hidden' / 'job' / 'work'}", f"--writable={ipc.parent / 'home'}",
                           f"--connection-file={ipc / 'kernel.json'}", f"--report={ipc / 'sandbox.json'}",
                           "--no-network", f"--hide={base / 'hidden'}", f"--hide={base / 'kernels'}",
                           f"--hide={base / 'results'}", *options, "--", *kernel, str(base / "attempts.py"), str(base)],
                          cwd=base / "hidden" / "job" / "work",
                          preexec_fn=container.in_a_container(container.python_installation(), REPO_ROOT, base),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(CONTAINER is not None, reason=CONTAINER or "")
def test_as_root_in_a_container_the_kernel_runs_as_a_user_of_its_own(container_layout):
    attempts = _in_container(container_layout, [sys.executable])
    assert attempts["user"] not in (0, os.getuid())
    assert "without a private file system: refused by this system (unshare (mount namespace): Operation " \
           "not permitted)" in attempts["sandbox"]
    assert sandbox.UNPRIVILEGED not in attempts["sandbox"]  # in force
    assert {k: attempts[k] for k in DENIED} == DENIED
    assert json.loads((container_layout / "kernels" / "k1" / "ipc" / "sandbox.json").read_text())["missing"]
    assert not (container_layout / "results" / "results.json").exists()


@pytest.mark.skipif(CONTAINER is not None, reason=CONTAINER or "")
def test_without_the_user_switch_the_kernel_reads_and_writes_the_graders_files(container_layout):
    """The same kernel kept as root (`--user 0`) does all the above: the switch is what stops it."""
    attempts = _in_container(container_layout, [sys.executable], "--user=0")
    assert attempts["user"] == 0
    assert {k: attempts[k] for k in AS_ROOT} == AS_ROOT
    assert (container_layout / "results" / "results.json").exists()


@pytest.mark.skipif(CONTAINER is not None, reason=CONTAINER or "")
def test_a_kernel_other_users_cannot_run_still_runs_as_root_and_says_why(container_layout):
    private = container_layout / "private"
    private.mkdir(mode=0o700)
    (private / "kernel").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (private / "kernel").chmod(0o700)
    attempts = _in_container(container_layout, [str(private / "kernel")])
    assert attempts["user"] == 0 and attempts["write in its folder"] is True  # grading still works
    assert f"without {sandbox.UNPRIVILEGED}: refused by this system (user " in attempts["sandbox"]
    assert f"cannot reach {private / 'kernel'}" in attempts["sandbox"]


@pytest.mark.skipif(CONTAINER is not None, reason=CONTAINER or "")
def test_what_a_kernel_of_its_own_user_leaves_behind_is_ended(container_layout):
    """No pid namespace ends the kernel's processes with it there: the grader kills its user's processes."""
    (container_layout / "attempts.py").write_text(
        "import subprocess\n"
        "subprocess.Popen(['sleep', '300'], start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print('{}')\n")
    _in_container(container_layout, [sys.executable])
    user = json.loads((container_layout / "kernels" / "k1" / "ipc" / "sandbox.json").read_text())["user"]
    assert user in sandbox.OWN_IDS
    assert container.processes_of([user])  # the sleeper outlived its kernel
    sandbox.end_processes_of(user)
    time.sleep(0.5)
    assert container.processes_of([user]) == []
