"""The helper library and the student notebooks on Windows (and macOS): paths are built with the
system's own rules, never from `/`-separated strings; nothing needs a POSIX shell; and an archive
member cannot escape the data folder on either kind of system.

The path-building code runs here with Windows paths (`pathlib.PureWindowsPath`, which follows
`ntpath`'s rules) in place of the system's, so its results are checked against what Windows would
build, on Linux.
"""
from __future__ import annotations

import ast
import io
import re
import tarfile
from pathlib import Path, PureWindowsPath

import nbformat
import pytest

from autograder.course import ASSIGNMENTS, assignment_ids, notebook_name
from optimlab.data import cifar10, download
from optimlab.data.download import DownloadError, escapes_directory

LIBRARY = Path(cifar10.__file__).resolve().parents[1]
WINDOWS_DATA = r"C:\Users\Ana Lopez\OneDrive\OptimLab Data"


class WindowsPath(PureWindowsPath):
    """A Windows path usable on any system: what `pathlib.Path` is on Windows, less file access."""

    def expanduser(self):
        return self if not str(self).startswith("~") else PureWindowsPath(r"C:\Users\Ana Lopez", *self.parts[1:])

    def resolve(self):
        return self


@pytest.fixture
def on_windows(monkeypatch):
    """optimlab.data.cifar10 building Windows paths."""
    monkeypatch.setattr(cifar10, "Path", WindowsPath)
    monkeypatch.setenv(cifar10.DATA_DIR_ENV, WINDOWS_DATA)


def test_data_folders_are_built_with_windows_separators(on_windows):
    assert cifar10.default_data_dir() == PureWindowsPath(WINDOWS_DATA)
    assert str(cifar10.real_data_dir()) == WINDOWS_DATA + r"\cifar-10-batches-py"
    assert str(cifar10.sample_data_dir()) == WINDOWS_DATA + r"\sample\cifar-10-batches-py"
    explicit = r"D:\course\data"
    assert str(cifar10.real_data_dir(explicit)) == r"D:\course\data\cifar-10-batches-py"
    assert str(cifar10.sample_data_dir(explicit)) == r"D:\course\data\sample\cifar-10-batches-py"
    # A folder given with forward slashes, as Windows also accepts, means the same folder.
    assert cifar10.real_data_dir("D:/course/data") == cifar10.real_data_dir(explicit)


def test_home_folder_and_the_hint_to_fix_a_file_on_windows(on_windows, monkeypatch):
    monkeypatch.setenv(cifar10.DATA_DIR_ENV, r"~\OptimLab")
    assert str(cifar10.default_data_dir()) == r"C:\Users\Ana Lopez\OptimLab"
    # The repair hint tells a sample file from a real one by the path's parts, not by '/'.
    sample_file = cifar10.sample_data_dir() / "data_batch_1"
    assert cifar10._fix_command(sample_file) == "`optimlab-data make-sample`"
    assert cifar10._fix_command(cifar10.real_data_dir() / "data_batch_1") == "`optimlab-data download`"


def test_default_data_folder_without_the_variable_is_beside_the_library(monkeypatch):
    monkeypatch.delenv(cifar10.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(cifar10, "Path", WindowsPath)
    monkeypatch.setattr(cifar10.optimlab, "__file__", r"C:\Users\Ana\optimlab-student\optimlab\__init__.py")
    assert str(cifar10.default_data_dir()) == r"C:\Users\Ana\optimlab-student\data"


@pytest.mark.parametrize("name", [
    "/etc/passwd", "C:\\Windows\\win.ini", "C:relative", "\\rooted", "../escaped",
    "cifar-10-batches-py/../../escaped", "cifar-10-batches-py\\..\\..\\escaped", "..\\escaped",
])
def test_archive_members_that_escape_on_either_system_are_refused(name):
    assert escapes_directory(name)
    with pytest.raises(DownloadError, match="outside its own directory"):
        download._check_member(tarfile.TarInfo(name))


@pytest.mark.parametrize("name", ["cifar-10-batches-py", "cifar-10-batches-py/data_batch_1",
                                  "cifar-10-batches-py/readme.html", "a..b/c..d"])
def test_archive_members_inside_the_folder_are_accepted(name):
    assert not escapes_directory(name)
    download._check_member(tarfile.TarInfo(name))


def test_a_backslash_member_is_refused_before_anything_is_extracted(tmp_path):
    """The whole download path, on Linux: a member that only Windows would place outside."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py\\..\\..\\escaped")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    archive = tmp_path / "archive.tar.gz"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(DownloadError, match="outside its own directory"):
        download._safe_extract(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").iterdir())


# ------------------------------------------------------------------------- a static audit

PATH_CALLS = {"Path", "PurePath", "open", "join", "mkdtemp", "rmtree", "exists", "isfile", "isdir", "listdir"}


def _path_literals(tree: ast.AST) -> list[str]:
    """String literals with a path separator that are used as a path: an argument of a path call
    or an operand of pathlib's `/`."""
    found = []
    for node in ast.walk(tree):
        operands = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in PATH_CALLS:
                operands = node.args
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            operands = [node.left, node.right]
        for operand in operands:
            for sub in ast.walk(operand):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and re.search(r"[/\\]", sub.value) \
                        and not sub.value.startswith(("http://", "https://")):
                    found.append(sub.value)
    return found


def _shell_uses(tree: ast.AST) -> list[str]:
    """Ways to need a POSIX shell: shell=True, os.system, os.popen, or running sh/bash."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "shell":
            found.append("shell=")
        if isinstance(node, ast.Attribute) and node.attr in ("system", "popen") and \
                getattr(node.value, "id", "") == "os":
            found.append(f"os.{node.attr}")
        if isinstance(node, ast.Constant) and node.value in ("sh", "bash", "/bin/sh", "/bin/bash"):
            found.append(node.value)
    return found


@pytest.mark.parametrize("path", sorted(LIBRARY.rglob("*.py")), ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_library_builds_no_path_from_separators_and_needs_no_shell(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _path_literals(tree) == []
    assert _shell_uses(tree) == []


@pytest.mark.parametrize("assignment", assignment_ids())
def test_student_notebooks_build_no_path_and_run_no_shell(assignment):
    nb = nbformat.read(ASSIGNMENTS / assignment / notebook_name(assignment), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not re.search(r"^\s*!", cell.source, re.M), "a shell escape runs only where that shell exists"
        magics = re.findall(r"^\s*%+\w+", cell.source, re.M)
        assert {m.strip() for m in magics} <= {"%matplotlib"}, magics
        tree = ast.parse(re.sub(r"^\s*%.*$", "pass", cell.source, flags=re.M))
        assert _path_literals(tree) == [] and _shell_uses(tree) == []


def test_the_audit_finds_what_it_looks_for():
    tree = ast.parse('open("data/x.txt"); p = root / "sample/cifar"; subprocess.run("ls", shell=True); os.system("x")')
    assert _path_literals(tree) == ["data/x.txt", "sample/cifar"]
    assert _shell_uses(tree) == ["shell=", "os.system"]
