"""The student edition (`optimlab-grade handout`): what it holds, that nothing of the instructor's
leaks into it (folder and zip, line by line), that it is reproducible, and that it works on its own
in a fresh virtual environment outside the repository."""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
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
from autograder.grading import gradebook_results
from autograder.samples import reference_submission, with_replacements
from browser.expectations import expected_failures
from edition_leaks import SHARED_IDIOMS, Scanner, master_lines, normalize, source_lines
from test_download import archive, md5, server  # noqa: F401 - the local server of the test archive
from test_notebooks import execute

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


# ------------------------------------------------------- on its own, in a fresh venv


def _setup_command(readme: str) -> str:
    """The bash/zsh set-up command of the students' README, as written there."""
    section = readme.split("## 1. Set up")[1].split("\n## ")[0]
    return re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip()


def _outside_env(**extra) -> dict[str, str]:
    """The environment of a student's shell: nothing of the repository's venv or the test run."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "OPTIMLAB_DATA_DIR", "OPTIMLAB_FAST")}
    repo_bins = {str(course.REPO_ROOT / ".venv" / "bin"), str(Path(sys.executable).parent)}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p not in repo_bins)
    return env | extra


@pytest.fixture(scope="session")
def student_venv(tmp_path_factory):
    """A fresh edition outside the repository, installed with its README's command into its own
    new .venv (pip's cache makes a second session fast): (edition folder, the venv's bin folder).
    One per test session; every test that needs it shares it."""
    edition = build_handout(course.assignment_ids(), tmp_path_factory.mktemp("fresh") / EDITION).folder
    command = _setup_command((edition / "README.md").read_text())
    start = time.perf_counter()
    # No bytecode compilation by pip: the same install, minutes less on a busy machine.
    done = subprocess.run(["bash", "-c", command], cwd=edition, capture_output=True, text=True,
                          env=_outside_env(PIP_NO_COMPILE="1", PIP_PROGRESS_BAR="off"))
    assert done.returncode == 0, f"`{command}` failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    print(f"\nfresh venv: `{command}` took {time.perf_counter() - start:.0f} s")
    return edition, edition / ".venv" / "bin"


def run_in_venv(bin_dir: Path, notebooks: list[Path], report: Path) -> dict:
    """Runs `notebooks` with tests/run_notebooks.py in the venv's Python, two processes at once."""
    halves = [notebooks[0::2], notebooks[1::2]]
    procs = [subprocess.Popen([str(bin_dir / "python"), str(Path(__file__).with_name("run_notebooks.py")),
                               str(report.with_suffix(f".{i}.json")), *map(str, half)],
                              cwd=report.parent, env=_outside_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for i, half in enumerate(halves) if half]
    results = {}
    for i, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out[-3000:]
        results |= json.loads(report.with_suffix(f".{i}.json").read_text())
    return results


@pytest.mark.slow
def test_every_student_notebook_runs_in_the_fresh_venv_failing_only_where_work_is_due(student_venv, tmp_path):
    edition, bin_dir = student_venv
    for module in ("autograder", "nbgrader"):
        probe = subprocess.run([str(bin_dir / "python"), "-c", f"import {module}"], cwd=tmp_path,
                               env=_outside_env(), capture_output=True, text=True)
        assert f"No module named '{module}'" in probe.stderr, f"{module} is installed for students"

    start = time.perf_counter()
    notebooks = [edition / "assignments" / a / course.notebook_name(a) for a in course.assignment_ids()]
    results = run_in_venv(bin_dir, notebooks, tmp_path / "report.json")
    print(f"\nthe {len(notebooks)} student notebooks ran in the fresh venv in {time.perf_counter() - start:.0f} s")
    assert len(notebooks) == len(course.assignment_ids())
    for notebook in notebooks:
        result = results[str(notebook)]
        failing = {int(i): ename for i, (ename, _) in result["errors"].items()}
        # Only cells that expectations.py says need the student's work fail (it may predict a cell
        # whose dependence on that work is decided at run time, as `if histories:`), and each
        # fails because a function is still to write.
        assert failing and set(failing) <= set(expected_failures(notebook)), notebook.name
        assert set(failing.values()) == {"NotImplementedError"}, notebook.name
    passes = sum(text.count("PASS ") for r in map(results.get, map(str, notebooks)) for text in r["stdout"].values())
    assert passes >= 2, "the self-checks that need no work of the student pass"
    # The kernels were the venv's own, with the edition's library (installed in place).
    assert Path(results["python"]) == bin_dir / "python"
    assert results["kernel_argv0"] in ("python", "python3", str(bin_dir / "python"))
    probe = subprocess.run([str(bin_dir / "python"), "-c", "import optimlab; print(optimlab.__file__)"],
                           cwd=tmp_path, env=_outside_env(), capture_output=True, text=True)
    assert Path(probe.stdout.strip()) == edition / "optimlab" / "__init__.py"


def _completed(edition: Path, replacements: dict | None = None) -> nbformat.NotebookNode:
    """The edition's 01_losses notebook with every answer cell filled in from the master notebook,
    and the functions in `replacements` replaced by a known mistake's wrong function."""
    nb = reference_submission("01_losses", edition / "assignments")
    return with_replacements(nb, replacements) if replacements else nb


def _self_check_lines(stdout: dict[str, str]) -> list[str]:
    return [line for _, text in sorted(stdout.items(), key=lambda kv: int(kv[0]))
            for line in text.splitlines() if line.startswith(("PASS", "FAIL"))]


@pytest.mark.slow
def test_notebooks_completed_in_the_edition_check_and_grade_as_in_the_course(student_venv, tmp_path):
    edition, bin_dir = student_venv
    work = edition / "assignments" / "01_losses"
    right, mistake = work / "alice.ipynb", work / "bob.ipynb"
    nbformat.write(_completed(edition), right)
    nbformat.write(_completed(edition, {"svm_loss": losses_spec.svm_includes_correct_class}), mistake)
    results = run_in_venv(bin_dir, [right, mistake], tmp_path / "report.json")
    assert results[str(right)]["errors"] == {}, "the completed notebook runs clean in the edition"

    # The self-checks print in the edition exactly what they print in the repository.
    in_edition = _self_check_lines(results[str(right)]["stdout"])
    in_repository, _ = execute(right, allow_errors=False)
    repository_stdout = {str(i): "".join(o.text for o in c.get("outputs", [])
                                         if o.output_type == "stream" and o.name == "stdout")
                         for i, c in enumerate(in_repository.cells) if c.cell_type == "code"}
    assert in_edition == _self_check_lines(repository_stdout)
    assert len(in_edition) >= 10 and all(line.startswith("PASS") for line in in_edition)
    assert any(line.startswith("FAIL") for line in _self_check_lines(results[str(mistake)]["stdout"])) or \
        results[str(mistake)]["errors"], "the known mistake shows in the self-checks"

    # The instructor grades the two notebooks completed in the edition.
    handed_in = tmp_path / "handed_in"
    handed_in.mkdir()
    shutil.copy(right.with_suffix(".executed.ipynb"), handed_in / "alice.ipynb")
    shutil.copy(mistake.with_suffix(".executed.ipynb"), handed_in / "bob.ipynb")
    course_dir = tmp_path / "course"
    assert grade_cli(["grade", str(handed_in), "--assignment", "01_losses", "--course-dir", str(course_dir),
                      "--workers", "2"]) == 0
    grades = {r.student: r for r in gradebook_results(course_dir)}
    assert grades["alice"].score == 25.0 and grades["alice"].manual_pending == 6.0
    assert grades["bob"].score == 22.0
    svm = next(c for c in grades["bob"].checks if c["score"] < c["points"])
    assert any("the sum includes j = y_i" in d for d in svm["diagnoses"]), svm


@pytest.mark.slow
def test_optimlab_data_download_works_in_the_fresh_venv(student_venv, server):
    edition, bin_dir = student_venv
    data = edition / "data"
    try:
        # The command as students type it: it fetches from the server and checks the official
        # checksum, which the test archive does not have, so it ends in one sentence.
        done = subprocess.run([str(bin_dir / "optimlab-data"), "download", "--url", server.url],
                              cwd=edition, env=_outside_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("optimlab-data: The downloaded archive's MD5 checksum")
        assert server.ranges, "the installed command reached the server"
        # The same download with the test archive's checksum installs it into the edition's data/.
        code = ("import sys; from optimlab.data.download import download_cifar10; "
                "print(download_cifar10(url=sys.argv[1], md5=sys.argv[2], progress=False))")
        done = subprocess.run([str(bin_dir / "python"), "-c", code, server.url, md5(server.payload)],
                              cwd=edition, env=_outside_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert Path(done.stdout.strip().splitlines()[-1]) == data / "cifar-10-batches-py"  # after its own message
        verify = subprocess.run([str(bin_dir / "optimlab-data"), "verify"], cwd=edition, env=_outside_env(),
                                capture_output=True, text=True, timeout=120)
        assert verify.returncode == 0 and "OK, 20 training and 6 test images" in verify.stdout, verify
    finally:  # the other tests run the notebooks on the sample
        shutil.rmtree(data / "cifar-10-batches-py", ignore_errors=True)
