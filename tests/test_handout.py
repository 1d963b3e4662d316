"""The student edition (`optimlab-grade handout`): what it holds, that nothing of the instructor's
leaks into it (folder and zip, line by line), that it is reproducible, and that it works on its own
in a fresh virtual environment outside the repository."""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import inspect
import json
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder import course
from autograder.cli import main as grade_cli
from autograder.specs import losses as losses_spec
from autograder.handout import build_handout, student_dependencies, write_zip
from edition_leaks import SHARED_IDIOMS, Scanner, master_lines, normalize, source_lines

EDITION = "optimlab-student"


@pytest.fixture(scope="session")
def handout(tmp_path_factory):
    """The edition of every assignment, built once: (folder, zip)."""
    built = build_handout(course.assignment_ids(), tmp_path_factory.mktemp("handout") / EDITION)
    print(f"\nstudent edition: {built.files} files, {built.folder_bytes:,} bytes; "
          f"zip {built.zip_bytes:,} bytes")
    return built


@pytest.fixture(scope="module")
def scanner():
    return Scanner()


def _copy(folder: Path, dest: Path) -> Path:
    shutil.copytree(folder, dest)
    return dest


# ------------------------------------------------------------------------ contents


def test_edition_holds_the_notebooks_the_library_the_sample_and_the_set_up(handout):
    names = {str(p.relative_to(handout.folder).as_posix()) for p in handout.folder.rglob("*") if p.is_file()}
    notebooks = {f"assignments/{a}/{course.notebook_name(a)}" for a in course.assignment_ids()}
    library = {f"optimlab/{p.relative_to(course.REPO_ROOT / 'optimlab').as_posix()}"
               for p in (course.REPO_ROOT / "optimlab").rglob("*.py")}
    sample = {f"data/sample/cifar-10-batches-py/{name}" for name in
              ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
               "test_batch", "batches.meta")}
    setup = {"README.md", "pyproject.toml", "environment.yml", ".gitignore", "data/README.md"}
    assert names == notebooks | library | sample | setup
    for name in notebooks | library | sample:
        assert (handout.folder / name).read_bytes() == (course.REPO_ROOT / name).read_bytes(), name
    with zipfile.ZipFile(handout.zip_path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    assert members == {f"{EDITION}/{name}": (handout.folder / name).read_bytes() for name in names}


def test_edition_is_reproducible_and_week_by_week_releases_agree(tmp_path):
    first_week = build_handout(["01_losses"], tmp_path / "week1" / EDITION)
    second_week = build_handout(["01_losses", "02_gradients"], tmp_path / "week2" / EDITION)
    again = build_handout(["02_gradients", "01_losses"], tmp_path / "again" / EDITION)
    assert second_week.zip_path.read_bytes() == again.zip_path.read_bytes(), "the zip is reproducible"

    week1 = {p.relative_to(first_week.folder): p.read_bytes() for p in first_week.folder.rglob("*") if p.is_file()}
    for name, data in week1.items():
        assert (second_week.folder / name).read_bytes() == data, f"{name} changed between the weeks"
    assert not (first_week.folder / "assignments" / "02_gradients").exists()
    with zipfile.ZipFile(first_week.zip_path) as one, zipfile.ZipFile(second_week.zip_path) as two:
        for info in one.infolist():
            other = two.getinfo(info.filename)
            assert (info.date_time, info.external_attr, info.CRC) == (other.date_time, other.external_attr, other.CRC)
            assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_a_new_handout_replaces_an_earlier_edition_only(tmp_path, capsys):
    out = tmp_path / EDITION
    assert grade_cli(["handout", "01_losses", "--out", str(out)]) == 0
    assert grade_cli(["handout", "01_losses", "02_gradients", "--out", str(out)]) == 0
    assert (out / "assignments" / "02_gradients").is_dir()
    capsys.readouterr()

    foreign = tmp_path / "thesis"
    (foreign / "chapter1.tex").parent.mkdir()
    (foreign / "chapter1.tex").write_text("keep me")
    for argv, words in (
        (["handout", "--out", str(foreign)], "is not an earlier student edition"),
        (["handout", "--out", str(course.REPO_ROOT / "optimlab" / "x")], "inside the course's own files"),
        (["handout", "--out", str(course.REPO_ROOT)], "holds the course repository"),
        (["handout", "99_nothing", "--out", str(tmp_path / "new")], "There is no assignment '99_nothing'"),
    ):
        assert grade_cli(argv) == 1
        err = capsys.readouterr().err.strip()
        assert words in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert (foreign / "chapter1.tex").read_text() == "keep me"
    assert not (tmp_path / "new").exists() and not (course.REPO_ROOT / "optimlab" / "x").exists()


# ------------------------------------------------------------------ what students install


def _top_level_imports(source: str) -> set[str]:
    tree = ast.parse(re.sub(r"^\s*[%!].*$", "pass", source, flags=re.M))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _edition_imports(folder: Path) -> set[str]:
    """Every top-level module the library and the student notebooks import."""
    names = set()
    for path in (folder / "optimlab").rglob("*.py"):
        names |= _top_level_imports(path.read_text(encoding="utf-8"))
    for path in (folder / "assignments").rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                names |= _top_level_imports(cell.source)
    return names


def _requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")


def test_students_install_what_the_notebooks_import_and_nothing_of_the_grading_side(handout):
    project = tomllib.loads((handout.folder / "pyproject.toml").read_text())["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    grading_side = {"nbgrader", "nbclient", "nbformat", "nh3", "distributed", "dask", "autograder",
                    "pytest", "jupytext", "playwright", "latex2mathml"}
    assert declared.isdisjoint(grading_side)
    assert project["scripts"] == {"optimlab-data": "optimlab.data.cli:main"}, "no optimlab-grade"

    distributions = importlib.metadata.packages_distributions()
    optional = {"cupy"}  # the optional GPU cell finds it or skips
    needed = set()
    for module in _edition_imports(handout.folder) - {"optimlab"} - optional:
        if module in sys.stdlib_module_names:
            continue
        assert module in distributions, f"{module} is imported but comes from no installed distribution"
        needed |= {d.lower().replace("_", "-") for d in distributions[module]}
    assert needed, "the notebooks import third-party packages"
    assert needed <= declared, f"imported but not declared for students: {needed - declared}"
    # The versions are the repository's.
    repository = tomllib.loads((course.REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert set(project["dependencies"]) == set(student_dependencies()) <= set(repository)


def test_environment_yml_lists_the_same_packages_for_every_system(handout):
    env = yaml.safe_load((handout.folder / "environment.yml").read_text())
    project = tomllib.loads((handout.folder / "pyproject.toml").read_text())["project"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert env["channels"] == ["conda-forge"]
    assert conda[0] == "python=3.11" and conda[-1] == "pip"
    assert conda[1:-1] == project["dependencies"]
    assert env["dependencies"][-1] == {"pip": ["-e ."]}
    # Each of these is built for linux-64, osx-64, osx-arm64 and win-64 on conda-forge, or is
    # noarch there (pure Python); a Linux-only package would have to be added to this list first.
    cross_platform = {"numpy", "matplotlib", "jupyter", "array-api-compat", "tqdm", "scipy", "pillow",
                      "array-api-strict"}
    assert {_requirement_name(d) for d in conda[1:-1]} <= cross_platform


def test_paths_work_on_windows_and_case_insensitive_file_systems(handout):
    names = [p.relative_to(handout.folder).as_posix() for p in handout.folder.rglob("*")]
    assert len({n.lower() for n in names}) == len(names), "two paths differ only in case"
    reserved = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.I)
    for name in names:
        for part in name.split("/"):
            assert not re.search(r'[<>:"|?*\\]', part) and not part.endswith((" ", ".")), name
            assert not reserved.match(part), name
        assert len(name) + len(EDITION) < 200, f"{name} is too long for Windows' 260-character paths"


def test_readme_gives_every_command_for_bash_and_powershell(handout):
    readme = (handout.folder / "README.md").read_text()
    blocks = dict.fromkeys(("bash", "powershell"), "")
    for shell, body in re.findall(r"```(bash|powershell)\n(.*?)```", readme, re.S):
        blocks[shell] += body
    for command in ("-m venv .venv", "pip install -e .", "optimlab-data download", "jupyter lab assignments"):
        assert command in blocks["bash"] and command in blocks["powershell"], command
    assert ".venv\\Scripts\\" in blocks["powershell"] and ".venv/bin/" not in blocks["powershell"]
    assert ".venv/bin/" in blocks["bash"] and "\\" not in blocks["bash"]
    assert "&&" not in blocks["powershell"], "Windows PowerShell 5.1 has no &&"
    assert "## 4. Checking your work" in readme
    assert "solutions" not in readme and "optimlab-grade" not in readme


# ------------------------------------------------------------------ nothing leaks


def test_edition_leaks_nothing(handout, scanner):
    folder = scanner.scan_folder(handout.folder)
    archive = scanner.scan_zip(handout.zip_path)
    assert folder.leaks == [] and archive.leaks == []
    assert folder.files == archive.files == handout.files
    assert len(scanner.lines) > 2000, "the secrets cover the masters, the specs and the grading code"
    print(f"\nleak scan: {len(scanner.lines)} secret lines and {len(scanner.files)} secret files; "
          f"checked {folder.files} files ({folder.lines} text lines, {folder.binary_lines} lines of "
          f"binary data) and the {archive.files} members of the zip ({archive.lines} + "
          f"{archive.binary_lines} lines)")


def _secret_of(kind: str, secrets: dict[str, str]) -> tuple[str, str]:
    """(a secret line of one kind, the text it comes from): a line of a solution region, of a hidden
    test, of a model answer of 01_losses, or of a known mistake's wrong function."""
    if kind == "mistake":
        source = inspect.getsource(losses_spec.svm_includes_correct_class)
        texts = [source.split(":", 2)[2]]  # the body, not the def line
    else:
        master = nbformat.read(course.master_notebook("01_losses"), as_version=4)
        marker, cell_type = {"solution": ("BEGIN SOLUTION", "code"), "hidden test": ("BEGIN HIDDEN TESTS", "code"),
                             "model answer": ("BEGIN SOLUTION", "markdown")}[kind]
        texts = [c.source.split(marker)[1] for c in master.cells if c.cell_type == cell_type and marker in c.source]
    for text in texts:
        for line in text.splitlines():
            if normalize(line) in secrets and len(line.strip()) > 20:
                return line, text
    raise LookupError(kind)


@pytest.mark.parametrize("kind,where", [
    ("solution", "optimlab/checks.py"),
    ("hidden test", "optimlab/data/download.py"),
    ("model answer", "README.md"),
    ("mistake", "optimlab/plots.py"),
])
def test_leak_scan_finds_a_secret_line_planted_in_the_edition(handout, scanner, tmp_path, kind, where):
    line, source = _secret_of(kind, scanner.lines)
    assert line.strip() and line in source
    edition = _copy(handout.folder, tmp_path / EDITION)
    with open(edition / where, "a", encoding="utf-8") as f:
        f.write(f"\n        {line.strip()}   \n")  # indented and padded otherwise: still found
    leaks = scanner.scan_folder(edition).leaks
    assert len(leaks) == 1 and leaks[0].startswith(where) and normalize(line)[:40] in leaks[0], leaks
    write_zip(edition_files_of(edition), tmp_path / "edition.zip", EDITION)
    assert len(scanner.scan_zip(tmp_path / "edition.zip").leaks) == 1


def edition_files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_leak_scan_finds_a_master_notebook_copied_into_the_edition(handout, scanner, tmp_path):
    edition = _copy(handout.folder, tmp_path / EDITION)
    master = course.master_notebook("02_gradients")
    shutil.copy(master, edition / "assignments" / "02_gradients" / "gradients_v2.ipynb")
    leaks = scanner.scan_folder(edition).leaks
    assert any("a copy of solutions/02_gradients/gradients.ipynb" in leak for leak in leaks)
    assert sum("from solutions/02_gradients" in leak for leak in leaks) >= 20, "line by line too"
    # Re-saved (other JSON layout, so other bytes), it is still found by its lines.
    nb = nbformat.read(master, as_version=4)
    (edition / "assignments" / "02_gradients" / "gradients_v2.ipynb").write_text(json.dumps(nb, indent=4))
    write_zip(edition_files_of(edition), tmp_path / "edition.zip", EDITION)
    leaks = scanner.scan_zip(tmp_path / "edition.zip").leaks
    assert not any("a copy of" in leak for leak in leaks)
    assert sum("from solutions/02_gradients" in leak for leak in leaks) >= 20


@pytest.mark.parametrize("planted,words", [
    ("autograder/grading.py", "a copy of autograder/grading.py"),
    ("autograder/samples/01_losses/reference.ipynb", "a copy of autograder/samples/01_losses/reference.ipynb"),
    ("autograder/adversarial/01_losses/os_exit.ipynb", "a copy of autograder/adversarial"),
    ("autograder/specs/losses.py", "a copy of autograder/specs/losses.py"),
])
def test_leak_scan_finds_instructor_files_under_any_name(handout, scanner, tmp_path, planted, words):
    edition = _copy(handout.folder, tmp_path / EDITION)
    shutil.copy(course.REPO_ROOT / planted, edition / "optimlab" / "extra_file")
    leaks = scanner.scan_folder(edition).leaks
    assert any(leak.startswith(f"optimlab/extra_file: {words}") for leak in leaks), leaks


def test_leak_scan_finds_a_gradebook_git_history_and_instructor_folders(handout, scanner, tmp_path):
    edition = _copy(handout.folder, tmp_path / EDITION)
    (edition / "optimlab" / "grades.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    (edition / ".git").mkdir()
    (edition / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (edition / "Solutions").mkdir()
    leaks = scanner.scan_folder(edition).leaks
    assert any(leak.startswith("optimlab/grades.db: an SQLite database") for leak in leaks)
    assert any(leak.startswith(".git: an instructor's path") for leak in leaks)
    assert any(leak.startswith("Solutions: an instructor's path") for leak in leaks)


def test_shared_idioms_are_reviewed_lines_of_both_a_master_and_the_library():
    masters, _ = master_lines()
    library = source_lines(course.REPO_ROOT / "optimlab")
    for line in SHARED_IDIOMS:
        assert line in masters and line in library, f"{line!r} is no longer shared: drop it from the list"
