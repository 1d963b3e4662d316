"""The Gradescope autograder, run as Gradescope runs it, without Gradescope.

The zip of each assignment is unpacked into a temporary Gradescope root
(GRADESCOPE_ROOT): source/ holds the zip, run_autograder is copied beside it,
and setup.sh builds ONE fresh virtual environment for the session (pip's cache
is used; setup.sh is told which Python to use, as it would install 3.11 with
apt on Gradescope). Then run_autograder grades sample submissions of every
assignment and the Gradescope attacks, one submission at a time in the same
root, as Gradescope runs one per container. Every results.json is checked
against Gradescope's documented format (`validate` below, written from
gradescope-autograders' "Autograder Specifications") and its scores against the
sample tables that `optimlab-grade grade` is held to (tests/test_samples_*.py,
tests/test_grading.py).

By default a representative subset of the samples is graded (the untouched
notebook and a diagnosed mistake of 01, a diagnosed mistake of each other
assignment; the attacks grade the reference of 01 to full marks), to stay within
the suite's time budget; OPTIMLAB_GRADESCOPE_ALL=1 grades every sample.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from numbers import Real
from pathlib import Path

import nbformat
import pytest

from autograder import gradescope
from autograder.adversarial import ANSWERS, CORPUS, _prepend, _reference
from autograder.adversarial.gradescope import GRADESCOPE_ATTACKS, WRITE_RESULTS
from autograder.cli import main as cli
from autograder.course import SAMPLES, assignment_ids, master_notebook, notebook_name
import sample_grading
from autograder.sandbox import OWN_IDS, UNPRIVILEGED
from container import in_a_container, processes_of, python_installation, why_not_here

CONTAINER = why_not_here()

# --------------------------------------------------------------------------- the documented format

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_LEVEL = {"score": Real, "execution_time": Real, "output": str, "output_format": FORMATS,
             "test_output_format": FORMATS, "test_name_format": FORMATS, "visibility": VISIBILITY,
             "stdout_visibility": VISIBILITY, "extra_data": dict, "tests": list, "leaderboard": list}
TEST = {"score": Real, "max_score": Real, "status": {"passed", "failed"}, "name": str, "name_format": FORMATS,
        "number": str, "output": str, "output_format": FORMATS, "tags": list, "visibility": VISIBILITY,
        "extra_data": dict}


def _check_fields(obj: dict, spec: dict, where: str) -> None:
    assert isinstance(obj, dict), f"{where} is not an object"
    for key, value in obj.items():
        assert key in spec, f"{where} has the undocumented field {key!r}"
        kind = spec[key]
        if isinstance(kind, set):
            assert value in kind, f"{where}.{key} = {value!r} is not one of {sorted(kind)}"
        else:
            assert isinstance(value, kind) and not isinstance(value, bool), f"{where}.{key} is not a {kind.__name__}"


def validate(results: dict) -> None:
    """Asserts that `results` is a results.json as Gradescope documents it."""
    _check_fields(results, TOP_LEVEL, "results")
    tests = results.get("tests", [])
    assert "score" in results or (tests and all("score" in t for t in tests)), "no score at all"
    for i, test in enumerate(tests):
        _check_fields(test, TEST, f"tests[{i}]")
        assert all(isinstance(tag, str) for tag in test.get("tags", []))
        if "score" in test and "max_score" in test:
            assert 0 <= test["score"] <= test["max_score"] + 1e-9
    json.dumps(results, allow_nan=False)  # NaN and infinity are not JSON


def test_validator_rejects_what_gradescope_would():
    validate({"score": 1.0, "tests": [{"name": "a", "score": 1, "max_score": 2, "number": "1"}]})
    for bad in ({"score": "1"}, {"score": 1.0, "visibility": "soon"}, {"tests": [{"name": "a"}]},
                {"score": 1.0, "tests": [{"score": 1.0, "number": 1}]}, {"score": 1.0, "secret": 2}):
        with pytest.raises(AssertionError):
            validate(bad)


# ----------------------------------------------------------------------------------- the zip

def test_zip_layout_holds_what_grading_needs_and_nothing_else(tmp_path):
    built = gradescope.build_autograder("01_losses", tmp_path / "losses.zip")
    with zipfile.ZipFile(built.zip_path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    names = set(infos)
    assert {"setup.sh", "run_autograder"} <= names  # at the root, not in a folder
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111, f"{script} is not executable"
    # The master of this assignment is the only notebook: no other master, sample or adversarial submission.
    assert [n for n in names if n.endswith(".ipynb")] == ["course/solutions/01_losses/losses.ipynb"]
    assert not [n for n in names if n.startswith(("course/tests/", "course/assignments/", "course/.git"))]
    assert {"course/pyproject.toml", "course/constraints.txt", "course/autograder/core.py",
            "course/autograder/harness.py", "course/optimlab/checks.py",
            "course/data/sample/cifar-10-batches-py/data_batch_1"} <= names
    assert built.files == len(names) and built.zip_bytes == built.zip_path.stat().st_size
    assert built.autograded_points == sum(sample_grading.test_cell_points("01_losses").values()) == 25.0
    assert built.written == [("Question 1", 2.0), ("Question 2", 2.0), ("Question 3", 2.0)]


def test_command_builds_the_zip_and_says_what_to_set_up(tmp_path, capsys):
    assert cli(["gradescope", "04_schedules", "--out", str(tmp_path / "schedules.zip")]) == 0
    said = capsys.readouterr().out
    assert (tmp_path / "schedules.zip").is_file()
    assert "13 points" in said and "Question 1 (2 points)" in said


def test_command_errors_are_one_sentence(tmp_path, capsys):
    assert cli(["gradescope", "07_nothing", "--out", str(tmp_path / "x.zip")]) == 1
    assert cli(["gradescope", "01_losses", "--out", str(tmp_path / "x.tar")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "07_nothing" in err[0] and "x.tar is not a .zip" in err[1]


def test_a_failing_grader_still_writes_results(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADESCOPE_ROOT", str(tmp_path))
    monkeypatch.setattr(gradescope, "run", lambda *a, **k: 1 / 0)
    assert gradescope.main(["run", "--assignment", "01_losses"]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 0 and "The autograder failed on this submission (ZeroDivisionError)" in results["output"]


# -------------------------------------------------------------------- Gradescope, simulated

ALL = os.environ.get("OPTIMLAB_GRADESCOPE_ALL") == "1"
SUBSET = {"01_losses": ["softmax_overflow", "untouched"], "02_gradients": ["forward_differences"],
          "03_optimizers": ["adam_no_bias_correction"], "04_schedules": ["cosine_degrees"],
          "05_dropout": ["vanilla_dropout"]}
SAMPLE_TABLES = {"01_losses": "test_samples_losses", "02_gradients": "test_samples_gradients",
                 "03_optimizers": "test_samples_optimizers", "04_schedules": "test_samples_schedules",
                 "05_dropout": "test_samples_dropout"}
FIGURES: dict[str, list] = {"setup_seconds": [], "grading_seconds": []}


class Gradescope:
    """One temporary Gradescope root per assignment, all sharing the session's virtual environment."""

    def __init__(self, base: Path):
        self.base = base
        self.venv = base / "venv"
        self.roots: dict[str, Path] = {}
        self.current: str | None = None

    def env(self, root: Path) -> dict[str, str]:
        return {**os.environ, "GRADESCOPE_ROOT": str(root), "OPTIMLAB_VENV": str(self.venv),
                "OPTIMLAB_PYTHON": _base_python(), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def install(self, assignment: str) -> Path:
        """The root of `assignment` with its setup.sh run (the session's venv then grades it)."""
        if self.current == assignment:
            return self.roots[assignment]
        root = self.roots.get(assignment)
        if root is None:
            root = self.roots[assignment] = self.base / assignment
            gradescope.build_autograder(assignment, self.base / f"{assignment}.zip")
            with zipfile.ZipFile(self.base / f"{assignment}.zip") as archive:
                archive.extractall(root / "source")
            for script in ("setup.sh", "run_autograder"):
                (root / "source" / script).chmod(0o755)  # zipfile does not restore modes; Gradescope does
            shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        started = time.perf_counter()
        done = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=self.env(root),
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        FIGURES["setup_seconds"].append((assignment, round(time.perf_counter() - started, 1)))
        self.current = assignment
        return root

    def grade(self, assignment: str, files: dict[str, bytes], container: bool = False) -> tuple[dict, str]:
        """run_autograder on a submission of `files` (name -> bytes): (results.json, its stdout).

        container: as root without the capability to mount, as Gradescope's Docker container runs it.
        """
        root = self.install(assignment)
        for folder in ("submission", "results"):
            shutil.rmtree(root / folder, ignore_errors=True)
            (root / folder).mkdir()
        for name, data in files.items():
            (root / "submission" / name).write_bytes(data)
        started = time.perf_counter()
        done = subprocess.run([str(root / "run_autograder")], cwd=root, env=self.env(root),
                              preexec_fn=in_a_container(python_installation(), root) if container else None,
                              capture_output=True, text=True, timeout=900)
        FIGURES["grading_seconds"].append(round(time.perf_counter() - started, 1))
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads((root / "results" / "results.json").read_text())
        validate(results)
        return results, done.stdout


def _base_python() -> str:
    """A Python 3.11 outside any virtual environment (setup.sh would install one with apt on Gradescope)."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return str(candidate if candidate.exists() else Path(sys.base_prefix) / "bin" / "python3")


@pytest.fixture(scope="session")
def gradescope_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("gradescope")
    base.chmod(0o755)  # as Gradescope's /autograder is (pytest makes its folders private)
    env = Gradescope(base)
    yield env
    print(f"\nGradescope figures: setup.sh seconds {FIGURES['setup_seconds']}; "
          f"run_autograder seconds {FIGURES['grading_seconds']}")


def _samples() -> list[tuple[str, str]]:
    if ALL:
        return [(a, p.stem) for a in assignment_ids() for p in sorted((SAMPLES / a).glob("*.ipynb"))]
    return [(a, s) for a, students in SUBSET.items() for s in students]


def _hidden_sources(assignment: str) -> list[str]:
    """The hidden-test code of the master notebook, line by line."""
    lines = []
    for cell in nbformat.read(master_notebook(assignment), as_version=4).cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            lines += [l.strip() for l in cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
                      .splitlines() if l.strip()]
    return lines


# ----------------------------------------------------------------------------- the attacks

FULL = 25.0


def _attack(name: str) -> bytes:
    [data] = next(a for a in GRADESCOPE_ATTACKS if a.name == name).build(_reference()).values()
    return data


@pytest.mark.slow
def test_kernel_cannot_write_results_json(gradescope_env):
    results, _ = gradescope_env.grade("01_losses", {"losses.ipynb": _attack("writes_results")})
    assert results["score"] == FULL
    time.sleep(2)  # its leftover process would have written again by now (every 0.1 s)
    again = json.loads((gradescope_env.roots["01_losses"] / "results" / "results.json").read_text())
    assert again == results


@pytest.mark.slow
def test_kernel_cannot_read_source_or_the_master(gradescope_env):
    results, _ = gradescope_env.grade("01_losses", {"losses.ipynb": _attack("reads_source")})
    assert results["score"] == 0.0


@pytest.mark.slow
@pytest.mark.skipif(CONTAINER is not None, reason=CONTAINER or "")
def test_in_a_container_without_namespaces_the_kernel_neither_reads_source_nor_writes_results(gradescope_env):
    """Gradescope's Docker container refuses root the namespaces: the kernel runs as a user of its own."""
    root = gradescope_env.install("01_losses")
    nb = nbformat.reads(_attack("reads_source").decode(), as_version=4)
    _prepend(ANSWERS[0], WRITE_RESULTS)(nb)  # and tries to write results.json first
    results, _ = gradescope_env.grade("01_losses", {"losses.ipynb": nbformat.writes(nb).encode()}, container=True)
    assert results["score"] == 0.0  # the master's solutions were not read
    assert "Graded without a private file system: refused by this system" in results["output"]
    assert f"without {UNPRIVILEGED}" not in results["output"]  # in force
    time.sleep(2)  # its leftover process would have written again by now (every 0.1 s)
    again = json.loads((root / "results" / "results.json").read_text())
    assert again == results
    assert processes_of(OWN_IDS) == []  # the grader ended the process the kernel left behind


@pytest.mark.slow
def test_results_printed_by_the_kernel_count_for_nothing(gradescope_env):
    results, log = gradescope_env.grade("01_losses", {"losses.ipynb": _attack("fake_stdout")})
    assert results["score"] == 0.0 and "1000" not in json.dumps(results)
    assert "All tests passed" not in log  # the kernel's own stdout does not even reach the log


@pytest.mark.slow
def test_a_dying_kernel_keeps_what_was_scored(gradescope_env):
    os_exit = (CORPUS / "01_losses" / "os_exit.ipynb").read_bytes()
    results, _ = gradescope_env.grade("01_losses", {"losses.ipynb": os_exit})
    assert results["score"] == 16.0
    assert "The kernel died while running cell" in results["output"]
    assert results["visibility"] == "visible"  # the notes reach the student at once


@pytest.mark.slow
@pytest.mark.parametrize("files,sentence", [
    ({}, "No notebook was submitted; upload your losses.ipynb."),
    ({"a.ipynb": b"{}", "b.ipynb": b"{}"}, "2 notebooks were submitted and none is named losses.ipynb"),
    ({"losses.ipynb": (CORPUS / "01_losses" / "invalid_json.ipynb").read_bytes()}, "is not valid JSON"),
    ({"losses.ipynb": b""}, "is empty"),
], ids=["nothing", "two_other_notebooks", "invalid_json", "empty"])
def test_unreadable_submissions_get_one_sentence(gradescope_env, files, sentence):
    results, _ = gradescope_env.grade("01_losses", files)
    assert results["score"] == 0.0 and results["tests"] == []
    assert results["output"].startswith("Your submission could not be graded: ") and sentence in results["output"]


@pytest.mark.slow
def test_a_notebook_under_another_name_is_graded_and_said(gradescope_env):
    reference = (SAMPLES / "01_losses" / "reference.ipynb").read_bytes()
    results, _ = gradescope_env.grade("01_losses", {"my_losses_v2.ipynb": reference, "notes.txt": b"hi"})
    assert results["score"] == FULL
    assert "The notebook my_losses_v2.ipynb was graded as losses.ipynb" in results["output"]


@pytest.mark.slow
def test_a_python_that_cannot_start_still_gives_results(gradescope_env, tmp_path):
    root = gradescope_env.install("01_losses")
    (root / "results").mkdir(exist_ok=True)
    (root / "results" / "results.json").unlink(missing_ok=True)
    env = {**gradescope_env.env(root), "OPTIMLAB_VENV": str(tmp_path / "no-venv")}
    subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, timeout=60)
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert results["score"] == 0 and "could not start" in results["output"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment,student", _samples())
def test_run_autograder_scores_as_optimlab_grade(gradescope_env, assignment, student):
    total, failures = importlib.import_module(SAMPLE_TABLES[assignment]).EXPECTED[student]
    points = sample_grading.test_cell_points(assignment)
    path = SAMPLES / assignment / f"{student}.ipynb"
    results, log = gradescope_env.grade(assignment, {notebook_name(assignment): path.read_bytes()})

    assert results["score"] == pytest.approx(total, abs=1e-9)
    scored = {t["name"]: t for t in results["tests"] if "score" in t}
    assert set(scored) == set(points)  # one test per hidden-test cell, named after the function it checks
    for check, test in scored.items():
        score, words = failures.get(check, (points[check], None))
        assert test["score"] == pytest.approx(score, abs=1e-9), test["output"]
        assert test["max_score"] == points[check]
        assert test["visibility"] == "after_published"
        if words is not None:
            assert words in test["output"], test["output"]  # the diagnosed mistake, as in the feedback HTML
        if score < points[check] and student != "untouched":
            assert "FAILED" in test["output"]
    manual = [t for t in results["tests"] if "score" not in t]
    assert manual and all("manual" in t["tags"] and t["max_score"] > 0 for t in manual)
    text = json.dumps(results)
    assert not [line for line in _hidden_sources(assignment) if line in text]  # no hidden test's source
    assert f"score {results['score']:g} in" in log  # the instructor's log
    # The summary is always visible: it holds back the score as the tests' visibility does.
    assert results["output"].startswith("Your notebook was graded; your score and the hidden tests' feedback are "
                                        "shown once your instructor publishes the grades.")

def test_kernel_memory_fits_the_container():
    from autograder.course import Limits

    default = Limits()
    assert gradescope.fitted_limits(default, None) == default
    assert gradescope.fitted_limits(default, 8 * 2**30) == default
    fitted = gradescope.fitted_limits(default, 4 * 2**30)
    assert fitted.memory_limit == 4 * 2**30 - gradescope.GRADER_MEMORY
    assert (fitted.cell_timeout, fitted.notebook_timeout) == (default.cell_timeout, default.notebook_timeout)
