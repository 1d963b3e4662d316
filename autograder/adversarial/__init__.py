"""The adversarial corpus: one submission per fault or attack the grader must survive.

Each entry below builds one submission of 01_losses from the reference sample
(`autograder/samples/01_losses/reference.ipynb`): a loop, a memory bomb, a
dying kernel, tampered cells and metadata, broken files, patched libraries,
attempts to read the reference or write outside the submission. The files are
generated into `autograder/adversarial/` by `optimlab-grade release` (never
edited by hand); tests/test_adversarial.py grades the whole corpus in one batch
and asserts each one's exact score.

Layouts: most entries are `01_losses/<name>.ipynb` (or `.zip`); the ones about
file names use nbgrader's `<name>/01_losses/<file>` layout.
"""
from __future__ import annotations

import copy
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

from autograder.adversarial import payloads
from autograder.course import ADVERSARIAL, SAMPLES

ASSIGNMENT = "01_losses"
CORPUS = ADVERSARIAL
ANSWERS = ("svm_loss_naive", "svm_loss", "softmax_loss_naive", "softmax_loss", "loss_facts",
           "l2_reg", "l1_reg", "elastic_net_reg", "ridge_fit")


@dataclass(frozen=True)
class Attack:
    name: str
    what: str                                   # the fault or attack, in words
    build: Callable[[nbformat.NotebookNode], dict[str, bytes]]  # relative path -> file content


def _reference() -> nbformat.NotebookNode:
    return nbformat.read(SAMPLES / ASSIGNMENT / "reference.ipynb", as_version=4)


def _answer(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _flat(name: str, nb) -> dict[str, bytes]:
    return {f"{ASSIGNMENT}/{name}.ipynb": nbformat.writes(nb).encode()}


def _edit(name: str, fn: Callable[[nbformat.NotebookNode], None]) -> Callable:
    """A builder that applies `fn` to a copy of the reference."""
    def build(reference):
        nb = copy.deepcopy(reference)
        fn(nb)
        return _flat(name, nb)
    return build


def _prepend(grade_id: str, code: str) -> Callable:
    """Puts `code` before the student's answer in an answer cell."""
    def fn(nb):
        cell = _answer(nb, grade_id)
        cell.source = code.strip() + "\n" + cell.source
    return fn


def _replace_answers(code_for: Callable[[str], str]) -> Callable:
    def fn(nb):
        for grade_id in ANSWERS:
            _answer(nb, grade_id).source = code_for(grade_id)
    return fn


def _wrong_everywhere(preamble: str) -> Callable:
    """Every function answered with a wrong constant, after `preamble` (the attack)."""
    def code_for(grade_id):
        if grade_id == "loss_facts":
            return preamble + "\nloss_facts = {}"
        return preamble + f"\ndef {grade_id}(*args, **kwargs):\n    return 0.0"
    return _replace_answers(code_for)


def _test_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def _delete_tests(nb):
    nb.cells = [c for c in nb.cells if c not in _test_cells(nb)]


def _edit_tests(nb):
    for cell in _test_cells(nb):
        cell.source = "print('all tests passed')\n1.0"


def _duplicate_tests(nb):
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell in _test_cells(nb):
            twin = copy.deepcopy(cell)
            twin.id = cell.id + "-twin"
            cells.append(twin)
    nb.cells = cells


def _reverse(nb):
    nb.cells = nb.cells[::-1]


def _more_points(nb):
    for cell in _test_cells(nb):
        cell.metadata.nbgrader["points"] = 100.0


def _rename_answer(nb):
    _answer(nb, "svm_loss").metadata.nbgrader["grade_id"] = "my_svm_loss"


def _retype_cells(nb):
    _answer(nb, "svm_loss_naive").cell_type = "markdown"
    _answer(nb, "svm_loss_naive").pop("outputs", None)
    _answer(nb, "svm_loss_naive").pop("execution_count", None)
    test = _test_cells(nb)[0]
    test.cell_type = "markdown"
    test.pop("outputs", None)
    test.pop("execution_count", None)


def _other_kernel(nb):
    nb.metadata.kernelspec = {"name": "ir", "display_name": "R", "language": "R"}


def _zip_with_traversal(reference) -> dict[str, bytes]:
    buffer = io.BytesIO()
    members = {"../../../escaped_from_zip.txt": "written outside the submission",
               "/tmp/absolute_from_zip.txt": "an absolute path",
               "submission/losses.ipynb": nbformat.writes(reference)}
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in members.items():  # a fixed date: the same bytes on every build
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return {f"{ASSIGNMENT}/zip_path_traversal.zip": buffer.getvalue()}


def _nbgrader_layout(student: str, files: dict[str, nbformat.NotebookNode]) -> Callable:
    def build(reference):
        return {f"{student}/{ASSIGNMENT}/{name}": nbformat.writes(nb or reference).encode()
                for name, nb in files.items()}
    return build


# Code the attacks run. Paths are computed in the kernel, as an attacker would.
_REPO = "import pathlib, autograder\nrepo = pathlib.Path(autograder.__file__).resolve().parents[1]\n"
READ_REFERENCE = _REPO + """
import json
master = json.loads((repo / "solutions" / "01_losses" / "losses.ipynb").read_text())
exec("\\n".join(c["source"] for c in master["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")))
"""
IMPORT_REFERENCE = """
from autograder.reference import load_reference
_ref = load_reference("01_losses")
globals().update({k: getattr(_ref, k) for k in dir(_ref) if not k.startswith("_")})
"""
READ_SAMPLES_AND_HISTORY = _REPO + """
import json, subprocess
sample = json.loads((repo / "autograder" / "samples" / "01_losses" / "reference.ipynb").read_text())
exec("\\n".join(c["source"] for c in sample["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")))
subprocess.run(["git", "-C", str(repo), "show", "HEAD:solutions/01_losses/losses.ipynb"], check=True)
"""
WRITE_OUTSIDE = _REPO + """
import os, glob
targets = [repo / "autograder" / "scoring.py", repo / "optimlab" / "checks.py", repo / "zz_planted.txt",
           pathlib.Path(os.getcwd()).parents[1] / "zz_other_student.txt", pathlib.Path("/tmp/zz_planted.txt")]
targets += [pathlib.Path(p) for p in glob.glob(str(pathlib.Path(os.getcwd()).parents[2] / "gradebook.db"))]
for target in targets:
    try:
        with open(target, "a") as f:
            f.write("tampered")
    except OSError:
        pass
"""
PATCH_NUMPY = """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones_like(np.asarray(a), dtype=bool)
numpy.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
"""
PATCH_BUILTINS = """
import builtins
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
"""
PATCH_GRADER = """
import autograder.harness as harness, autograder.scoring as scoring
from IPython.display import display
def fake_submit(assignment, name, obj):
    display({"text/plain": "3.0"}, raw=True)
    print("all hidden tests passed")
harness.submit = fake_submit
scoring.score_results = lambda *a, **k: None
"""
KILL_EVERYTHING = "import os, signal\nos.kill(-1, signal.SIGKILL)\n"
SEGFAULT = "import ctypes\nctypes.string_at(0)\n"
ENV_SWITCH = """
import os
if os.environ.get("NBGRADER_EXECUTION") or os.environ.get("OPTIMLAB_FAST"):
    def svm_loss(scores, y):
        return 0.0
"""
# Answers wrong wherever the network is reachable: a datagram that leaves, or a connection made.
_REACHES = """
import socket
def _reaches(address, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(3)
    try:
        s.connect(address)
        s.send(b"hello")
        return True
    except OSError:
        return False
    finally:
        s.close()
"""
CONNECT_OUT = _REACHES + """
if _reaches(("1.1.1.1", 53), socket.SOCK_DGRAM) or _reaches(("1.1.1.1", 443)):
    def svm_loss(scores, y):
        return 0.0
"""
CONNECT_LOCALHOST = _REACHES + """
# Every TCP service listening on 127.0.0.1 of this machine (/proc/net/tcp: local address, state 0A = LISTEN).
_rows = [line.split() for line in open("/proc/net/tcp").readlines()[1:]]
_ports = [int(r[1].split(":")[1], 16) for r in _rows if r[1].startswith("0100007F:") and r[3] == "0A"]
if any(_reaches(("127.0.0.1", port)) for port in _ports):
    def svm_loss(scores, y):
        return 0.0
"""
# Fill the disk in an answer cell, before its function: up to 1 GiB in 100 MiB files, or in 16,000 files of 64 KiB.
FILL_DISK_FILES = """
for i in range(10):
    with open(f"fill{i}.bin", "wb") as f:
        for _ in range(100):
            f.write(bytes(2**20))
"""
FILL_DISK_SMALL_FILES = """
import os, tempfile
for i in range(16_000):
    with open(os.path.join(tempfile.gettempdir(), f"small{i}"), "wb") as f:
        f.write(bytes(2**16))
"""
NOISY = """
import sys, warnings
warnings.warn("this API is deprecated", DeprecationWarning)
print("a message on stderr", file=sys.stderr)
"""

ATTACKS = [
    Attack("loop_in_solution", "an infinite loop in an answer cell, before its function",
           _edit("loop_in_solution", _prepend("svm_loss_naive", "while True:\n    pass"))),
    Attack("loop_at_import", "an infinite loop in a module the notebook writes and imports",
           _edit("loop_at_import", _prepend("svm_loss", (
               "import pathlib, sys\npathlib.Path('hang.py').write_text('while True:\\n    pass\\n')\n"
               "sys.path.insert(0, '.')\nimport hang")))),
    Attack("loop_in_hidden_call", "a function that loops only on the hidden tests' inputs",
           _edit("loop_in_hidden_call", lambda nb: setattr(_answer(nb, "svm_loss"), "source", (
               _answer(nb, "svm_loss").source.replace(
                   "    num_examples = scores.shape[0]\n",
                   "    num_examples = scores.shape[0]\n    while scores.shape == (8, 10):\n        pass\n"))))),
    Attack("memory_bomb", "allocates memory until it runs out",
           _edit("memory_bomb", _prepend("softmax_loss_naive", (
               "def hog():\n    chunks = []\n    while True:\n        chunks.append(bytearray(10**8))\nhog()")))),
    Attack("os_exit", "os._exit() kills the kernel", _edit("os_exit", _prepend("l2_reg", "import os\nos._exit(3)"))),
    Attack("segfault", "a segmentation fault through ctypes", _edit("segfault", _prepend("ridge_fit", SEGFAULT))),
    Attack("kill_everything", "os.kill(-1, SIGKILL): tries to kill every process of the user",
           _edit("kill_everything", _prepend("ridge_fit", KILL_EVERYTHING))),
    Attack("sys_exit", "sys.exit() in an answer cell",
           _edit("sys_exit", _prepend("l1_reg", "import sys\nsys.exit('bye')"))),
    Attack("syntax_error", "a syntax error in an answer cell",
           _edit("syntax_error", _prepend("svm_loss", "def svm_loss(scores, y)\n    return 0"))),
    Attack("every_cell_raises", "every answer cell raises",
           _edit("every_cell_raises", _replace_answers(lambda g: "raise RuntimeError('not today')"))),
    Attack("deleted_test_cells", "all graded test cells deleted", _edit("deleted_test_cells", _delete_tests)),
    Attack("edited_test_cells", "graded test cells replaced by `print('all tests passed'); 1.0`",
           _edit("edited_test_cells", _edit_tests)),
    Attack("duplicated_test_cells", "every graded test cell duplicated", _edit("duplicated_test_cells", _duplicate_tests)),
    Attack("reordered_cells", "every cell in reverse order", _edit("reordered_cells", _reverse)),
    Attack("changed_points", "every test cell claims 100 points", _edit("changed_points", _more_points)),
    Attack("changed_grade_id", "an answer cell's grade id renamed", _edit("changed_grade_id", _rename_answer)),
    Attack("changed_cell_type", "an answer cell and a test cell turned into markdown",
           _edit("changed_cell_type", _retype_cells)),
    Attack("changed_kernelspec", "the kernelspec switched to R", _edit("changed_kernelspec", _other_kernel)),
    Attack("invalid_json", "a file that is not JSON",
           lambda ref: {f"{ASSIGNMENT}/invalid_json.ipynb": b'{"cells": [{"cell_type": '}),
    Attack("empty_file", "an empty file", lambda ref: {f"{ASSIGNMENT}/empty_file.ipynb": b""}),
    Attack("not_a_notebook", "valid JSON that is not a notebook",
           lambda ref: {f"{ASSIGNMENT}/not_a_notebook.ipynb": json.dumps({"hello": "world"}).encode()}),
    Attack("wrong_name", "the notebook submitted under another name",
           _nbgrader_layout("wrong_name", {"my_losses_final_v2.ipynb": None})),
    Attack("extra_notebooks", "the notebook next to two scratch notebooks",
           _nbgrader_layout("extra_notebooks", {"losses.ipynb": None, "scratch.ipynb": None,
                                                "Untitled.ipynb": nbformat.v4.new_notebook()})),
    Attack("zip_path_traversal", "a zip whose members point outside the submission", _zip_with_traversal),
    Attack("million_lines", "prints a million lines (in a cell added at the end)",
           _edit("million_lines", lambda nb: nb.cells.append(
               nbformat.v4.new_code_cell("for i in range(10**6):\n    print(i)", id="million-lines")))),
    Attack("stderr_warnings", "correct code that writes warnings to stderr in every cell",
           _edit("stderr_warnings", lambda nb: [setattr(_answer(nb, g), "source", NOISY + _answer(nb, g).source)
                                                for g in ANSWERS])),
    Attack("patched_numpy", "patches numpy.allclose/isclose and numpy.testing, with wrong answers",
           _edit("patched_numpy", _wrong_everywhere(PATCH_NUMPY))),
    Attack("patched_builtins", "patches builtins, with wrong answers",
           _edit("patched_builtins", _wrong_everywhere(PATCH_BUILTINS))),
    Attack("patched_grader", "replaces the grader's submit and scoring functions, with wrong answers",
           _edit("patched_grader", _wrong_everywhere(PATCH_GRADER))),
    Attack("imports_reference", "imports the reference solution through the grader",
           _edit("imports_reference", _replace_answers(lambda g: IMPORT_REFERENCE))),
    Attack("reads_reference", "reads the master notebook from disk and runs its solutions",
           _edit("reads_reference", _replace_answers(lambda g: READ_REFERENCE))),
    Attack("reads_samples_and_git", "reads the reference sample and the git history",
           _edit("reads_samples_and_git", _replace_answers(lambda g: READ_SAMPLES_AND_HISTORY))),
    Attack("writes_outside", "writes over the grader, the gradebook and another student's folder",
           _edit("writes_outside", _prepend("svm_loss_naive", WRITE_OUTSIDE))),
    Attack("grading_env_switch", "answers differently when it detects the grading environment",
           _edit("grading_env_switch", lambda nb: setattr(_answer(nb, "svm_loss"), "source",
                                                          _answer(nb, "svm_loss").source + "\n" + ENV_SWITCH))),
    Attack("connects_out", "sends a datagram and opens a connection to a public address; answers wrong if either works",
           _edit("connects_out", lambda nb: setattr(_answer(nb, "svm_loss"), "source",
                                                    _answer(nb, "svm_loss").source + "\n" + CONNECT_OUT))),
    Attack("connects_to_localhost", "connects to every service listening on 127.0.0.1; answers wrong if one answers",
           _edit("connects_to_localhost", lambda nb: setattr(_answer(nb, "svm_loss"), "source",
                                                             _answer(nb, "svm_loss").source + "\n" + CONNECT_LOCALHOST))),
    Attack("fills_disk_files", "writes 100 MiB files until the disk is full",
           _edit("fills_disk_files", _prepend("l1_reg", FILL_DISK_FILES))),
    Attack("fills_disk_small_files", "writes 64 KiB files until the disk is full",
           _edit("fills_disk_small_files", _prepend("l1_reg", FILL_DISK_SMALL_FILES))),
    # Active content for whatever renders the graded notebook (autograder/adversarial/payloads.py)
    Attack("hostile_outputs", "outputs that try to run JavaScript where they are shown (scripts, handlers, "
           "frames, SVG, Markdown, widgets, CSS)", lambda ref: _flat("hostile_outputs", payloads.in_outputs(ref))),
    Attack("hostile_answers", "written answers and an added Markdown cell holding HTML, javascript: links and "
           "frames, and widget state closing its script tag", lambda ref: _flat("hostile_answers", payloads.in_answers(ref))),
]


def build_corpus(out_dir: Path = CORPUS) -> list[Path]:
    """Writes every attack's files under `out_dir`, replacing the previous corpus."""
    reference = _reference()
    for child in out_dir.iterdir() if out_dir.exists() else []:
        if child.is_dir() and child.name != "__pycache__":
            shutil.rmtree(child)
    written = []
    for attack in ATTACKS:
        for relative, content in attack.build(reference).items():
            path = out_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            written.append(path)
    return written
