"""The release build: assignments/ and the sample submissions are exactly what
the build produces from solutions/, and the student versions leak nothing."""
import filecmp
import re
from pathlib import Path

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, SAMPLES, assignment_ids, master_notebook
from autograder.grading import release
from autograder.samples import write_samples

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    release(assignment_ids(), root, root / "assignments")
    for assignment in assignment_ids():
        write_samples(assignment, root / "assignments", root / "samples")
    return root


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"}


@pytest.mark.parametrize("built_name,committed", [("assignments", ASSIGNMENTS), ("samples", SAMPLES)])
def test_committed_files_are_the_build_output(fresh_build, built_name, committed):
    built = fresh_build / built_name
    assert _files(built) == _files(committed)
    for name in _files(built):
        assert filecmp.cmp(built / name, committed / name, shallow=False), \
            f"{committed / name} is stale: run `optimlab-grade release`"


def _split_solution(cell) -> tuple[set[str], set[str]]:
    """(substantial lines between the solution markers, lines outside them) of a master cell."""
    inside_lines, outside_lines, inside = set(), set(), False
    for line in cell.source.splitlines():
        if "BEGIN SOLUTION" in line:
            inside = True
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            outside_lines.add(line.strip())
        elif len(line.strip()) > 12 and not line.strip().startswith("#"):
            inside_lines.add(line.strip())
    return inside_lines, outside_lines


@pytest.mark.parametrize("assignment", assignment_ids())
def test_student_version_contains_no_solution_hidden_test_or_model_answer(assignment):
    master = nbformat.read(master_notebook(assignment), as_version=4)
    released_text = "\n".join(p.read_text() for p in (ASSIGNMENTS / assignment).rglob("*") if p.is_file())
    released = nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name, as_version=4)
    released_lines = {l.strip() for c in released.cells for l in c.source.splitlines()}
    # lines students are meant to see: other cells, and templates around the solution regions
    shown_elsewhere = {l.strip() for c in master.cells if c.cell_type == "code" for l in _split_solution(c)[1]}

    solution_cells = [c for c in master.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert solution_cells, "the master notebook has answer cells"
    for cell in solution_cells:
        if cell.cell_type == "code":
            leaked = (_split_solution(cell)[0] - shown_elsewhere) & released_lines
            assert not leaked, f"solution code released: {leaked}"
        else:  # a model answer: none of its sentences may be released
            for sentence in re.split(r"(?<=[.!?])\s+", cell.source):
                if len(sentence) > 30:
                    assert sentence not in released_text, f"model answer released: {sentence[:60]}"
    assert "HIDDEN TESTS" not in released_text
    assert "submit(" not in released_text
    assert "autograder" not in released_text
    for cell in released.cells:
        assert not any(o for o in cell.get("outputs", [])), "released notebooks carry no outputs"
