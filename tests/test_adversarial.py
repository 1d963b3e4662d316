"""The adversarial corpus graded in one batch: every fault or attack gets its exact score,
nothing outside a submission's folder changes, and the batch always completes."""
import hashlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.adversarial import ATTACKS, CORPUS, build_corpus
from autograder.collect import find_submissions
from autograder.course import REPO_ROOT, Limits, nbgrader_config
from autograder.grading import grade_all

pytestmark = pytest.mark.slow
FULL = 25.0
LIMITS = Limits(cell_timeout=20, notebook_timeout=300, memory_limit=3 * 2**30)


def sandbox_mode() -> str:
    """What `autograder.sandbox` can do on this machine."""
    out = subprocess.run([sys.executable, "-m", "autograder.sandbox", "--", sys.executable, "-c",
                          "import os; print(os.environ['OPTIMLAB_SANDBOX'])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


ISOLATED = sandbox_mode().startswith("complete")
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason=f"kernel isolation unavailable: {sandbox_mode()}")

# name -> (autograded score, words of the note in the grade table, or None)
EXPECTED = {
    "loop_in_solution": (22.0, "per-cell time limit (20 s)"),
    "loop_at_import": (22.0, "per-cell time limit (20 s)"),
    "loop_in_hidden_call": (22.5, "per-cell time limit (20 s)"),
    "memory_bomb": (22.0, "ran out of memory (the limit is 3 GiB)"),
    "os_exit": (16.0, "the kernel died while running cell"),
    "segfault": (22.0, "the kernel died while running cell"),
    "kill_everything": (22.0, None),
    "sys_exit": (23.0, None),
    "syntax_error": (22.0, None),
    "every_cell_raises": (0.0, None),
    "deleted_test_cells": (FULL, None),
    "edited_test_cells": (FULL, None),
    "duplicated_test_cells": (FULL, None),
    "reordered_cells": (FULL, None),
    "changed_points": (FULL, None),
    "changed_grade_id": (FULL, None),
    "changed_cell_type": (FULL, None),
    "changed_kernelspec": (FULL, None),
    "invalid_json": (0.0, "is not a notebook (it is not valid JSON)"),
    "empty_file": (0.0, "empty_file.ipynb is empty."),
    "not_a_notebook": (0.0, "is not a Jupyter notebook in format 4"),
    "wrong_name": (FULL, None),
    "extra_notebooks": (FULL, None),
    "zip_path_traversal": (FULL, None),
    "million_lines": (FULL, None),
    "stderr_warnings": (FULL, None),
    "patched_numpy": (0.0, None),
    "patched_builtins": (0.0, "the kernel stopped responding after cell"),
    "patched_grader": (0.0, None),
    "imports_reference": (0.0, None),
    "reads_reference": (0.0, None),
    "reads_samples_and_git": (0.0, None),
    "writes_outside": (FULL, None),
    "grading_env_switch": (22.0, None),
    "hostile_outputs": (FULL, None),     # active content is removed, the answers still count
    "hostile_answers": (FULL, None),
    "connects_out": (FULL, None),
    "connects_to_localhost": (FULL, None),
    "fills_disk_files": (23.0, "ran out of disk space (the kernel may write 512 MiB in all)"),
    "fills_disk_small_files": (23.0, "ran out of disk space (the kernel may write 512 MiB in all)"),
}
NEEDS_ISOLATION = {"kill_everything", "imports_reference", "reads_reference", "reads_samples_and_git",
                   "writes_outside", "connects_out", "connects_to_localhost", "fills_disk_files",
                   "fills_disk_small_files"}
GUARDED = [REPO_ROOT / "autograder" / "scoring.py", REPO_ROOT / "optimlab" / "checks.py"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, dask_cluster):
    """The corpus graded on a real Dask cluster of 2 workers (tests/conftest.py): its jobs take the
    local pool's code path from the executor on (tests/test_cluster.py shows both grade alike)."""
    course = tmp_path_factory.mktemp("adversarial")
    before = {p: _digest(p) for p in GUARDED}
    with socket.create_server(("127.0.0.1", 0)):  # a service of this machine that `connects_to_localhost` looks for
        results = grade_all(find_submissions(CORPUS), course, limits=LIMITS, scheduler=dask_cluster.scheduler_address)
    return course, {r.student: r for r in results}, before


def test_the_corpus_is_the_build_output(tmp_path):
    built = build_corpus(tmp_path)
    committed = sorted(p.relative_to(CORPUS) for p in CORPUS.rglob("*")   # the corpus, not its builder's modules
                       if p.is_file() and p.suffix not in (".py", ".pyc") and "__" not in p.name)
    assert sorted(p.relative_to(tmp_path) for p in built) == committed
    for path in built:
        assert path.read_bytes() == (CORPUS / path.relative_to(tmp_path)).read_bytes(), \
            f"{path.name} is stale: run `optimlab-grade release`"


def test_every_attack_is_expected_and_the_corpus_is_large():
    assert {a.name for a in ATTACKS} == set(EXPECTED)
    assert len(ATTACKS) >= 25


def test_the_batch_completes_with_one_row_per_submission(graded):
    course, results, _ = graded
    assert set(results) == set(EXPECTED)
    config = nbgrader_config(course)
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        assert len(gb.assignment_submissions("01_losses")) == len(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_attack_scores_exactly(graded, name):
    if name in NEEDS_ISOLATION and not ISOLATED:
        pytest.skip(f"kernel isolation unavailable: {sandbox_mode()}")
    _, results, _ = graded
    score, words = EXPECTED[name]
    result = results[name]
    assert result.score == pytest.approx(score, abs=1e-9), (result.problem, result.notes, result.checks)
    notes = " ".join([result.problem or "", *result.notes])
    if words:
        assert words in notes
    elif result.problem:
        pytest.fail(f"unexpected problem: {result.problem}")


@needs_namespaces
def test_nothing_outside_the_submission_changed(graded):
    course, _, before = graded
    assert {p: _digest(p) for p in GUARDED} == before
    assert not (REPO_ROOT / "zz_planted.txt").exists()
    assert not Path("/tmp/zz_planted.txt").exists()
    assert not (course / "autograded" / "zz_other_student.txt").exists()
    assert not list(Path("/").glob("*/escaped_from_zip.txt")) and not Path("/tmp/absolute_from_zip.txt").exists()


def test_feedback_never_shows_hidden_tests_and_names_the_limit(graded):
    course, results, _ = graded
    for html in (course / "feedback").rglob("*.html"):
        text = html.read_text()
        assert "HIDDEN TESTS" not in text and "submit(" not in text
    notes = results["loop_in_solution"].feedback.read_text()
    assert "Grading notes" in notes and "per-cell time limit (20 s)" in notes


def test_output_is_capped(graded):
    import nbformat
    course, _, _ = graded
    nb = nbformat.read(course / "autograded" / "million_lines" / "01_losses" / "losses.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert len(printed) < 100_000 and "999999" not in printed
