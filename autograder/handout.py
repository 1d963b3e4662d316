"""The student edition: what a class gets, and nothing of the instructor's.

    optimlab-grade handout [ASSIGNMENT ...] --out DIR

writes into DIR, and as DIR.zip beside it:

    README.md, pyproject.toml, environment.yml, .gitignore   from autograder/edition/
    assignments/NN_name/...                                   the released notebooks (assignments/)
    optimlab/...                                              the helper library and the data tools
    data/README.md, data/sample/...                           the sample dataset

The edition is a pure function of the repository's files: the same assignments give the same bytes,
and an assignment's files are the same whichever other assignments are handed out with it (week by
week releases give students the same 01 files every time). The zip's entries are sorted and carry a
fixed timestamp and mode, so the zip is reproducible too.

Nothing else is copied: no master notebook (solutions/), no grading code (autograder/), no specs,
sample or adversarial submissions, gradebook, tests or git history. tests/test_handout.py proves it
line by line.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from string import Template

from autograder import course

TEMPLATES = Path(__file__).resolve().parent / "edition"
LIBRARY = course.REPO_ROOT / "optimlab"
DATA = course.REPO_ROOT / "data"
# What students install: the packages the notebooks and the library import, and Jupyter. Their
# versions are the repository's (pyproject.toml), so the two stay in step; the grading side's
# packages (nbgrader, the sanitizers, Dask, ...) are simply not on this list.
STUDENT_PACKAGES = ("numpy", "matplotlib", "jupyter", "array-api-compat", "tqdm", "scipy", "pillow",
                    "array-api-strict")
# Written into every zip entry, so the zip does not depend on when or where it was built.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o644
SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})


class HandoutError(Exception):
    """The edition cannot be written as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Handout:
    """A written edition: its folder, its zip, and how many files and bytes each holds."""

    folder: Path
    zip_path: Path
    files: int
    folder_bytes: int
    zip_bytes: int


# --------------------------------------------------------------------------- contents


def student_dependencies() -> list[str]:
    """STUDENT_PACKAGES with the repository's version specifiers, e.g. ['numpy>=1.26', ...]."""
    project = tomllib.loads((course.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_requirement_name(req): req for req in project["dependencies"]}
    missing = [name for name in STUDENT_PACKAGES if name not in declared]
    if missing:
        raise HandoutError(f"pyproject.toml no longer requires {', '.join(missing)}; update "
                           "STUDENT_PACKAGES in autograder/handout.py to what students need.")
    return [declared[name] for name in STUDENT_PACKAGES]


def _requirement_name(requirement: str) -> str:
    """'nbgrader>=0.9.5,<0.10' -> 'nbgrader' (lower case, '_' as '-')."""
    return re.match(r"[A-Za-z0-9_.-]+", requirement.strip()).group(0).lower().replace("_", "-")


def _project_version() -> str:
    project = tomllib.loads((course.REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["version"]


def _setup_files() -> dict[str, bytes]:
    """README.md, pyproject.toml, environment.yml and .gitignore of the edition."""
    deps = student_dependencies()
    pyproject = Template((TEMPLATES / "pyproject.toml").read_text(encoding="utf-8")).substitute(
        version=_project_version(), dependencies="\n".join(f'    "{d}",' for d in deps))
    environment = Template((TEMPLATES / "environment.yml").read_text(encoding="utf-8")).substitute(
        dependencies="\n".join(f"  - {d}" for d in deps))
    return {
        "README.md": (TEMPLATES / "README.md").read_bytes(),
        "pyproject.toml": pyproject.encode(),
        "environment.yml": environment.encode(),
        ".gitignore": (TEMPLATES / "gitignore").read_bytes(),
    }


def _tree(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every file under `folder` (no caches or bytecode) as {'prefix/relative/path': bytes}."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (path.is_file() and not SKIPPED_PARTS.intersection(relative.parts)
                and path.suffix not in SKIPPED_SUFFIXES):
            files[str(PurePosixPath(prefix, *relative.parts))] = path.read_bytes()
    return files


def _released_notebooks(assignment: str) -> dict[str, bytes]:
    """The files of assignments/<assignment>/, as released from the master notebook."""
    course.master_notebook(assignment)  # one clear sentence for an unknown name
    released = course.ASSIGNMENTS / assignment
    if not (released / course.notebook_name(assignment)).is_file():
        raise HandoutError(f"{assignment} has not been released yet; run `optimlab-grade release "
                           f"{assignment}` first.")
    return _tree(released, f"assignments/{assignment}")


def edition_files(assignments: list[str]) -> dict[str, bytes]:
    """The whole edition as {relative POSIX path: bytes}, for the given assignment ids."""
    files = _setup_files()
    for assignment in sorted(set(assignments)):
        files |= _released_notebooks(assignment)
    files |= _tree(LIBRARY, "optimlab")
    files["data/README.md"] = (DATA / "README.md").read_bytes()
    files |= _tree(DATA / "sample", "data/sample")
    return dict(sorted(files.items()))


# ---------------------------------------------------------------------------- writing


def _check_destination(out: Path) -> None:
    """Refuse a destination whose replacement would destroy the course or someone's other files."""
    repo = course.REPO_ROOT
    if out == repo or out in repo.parents:
        raise HandoutError(f"{out} holds the course repository; choose an empty or new folder for --out.")
    sources = [repo / name for name in ("solutions", "assignments", "autograder", "optimlab", "data", "tests")]
    if any(out == s or s in out.parents for s in sources):
        raise HandoutError(f"{out} is inside the course's own files; choose a folder outside them "
                           "(e.g. build/student-edition) for --out.")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not _is_edition(out))):
        raise HandoutError(f"{out} exists and is not an earlier student edition, so it was left alone; "
                           "choose an empty or new folder for --out.")


def _is_edition(folder: Path) -> bool:
    """An earlier handout (which a new one may replace): its README, library and assignments."""
    return all((folder / name).exists() for name in ("README.md", "pyproject.toml", "optimlab", "assignments"))


def _write_folder(files: dict[str, bytes], out: Path) -> None:
    """Write `files` into `out`, replacing an earlier edition there only once the new one is whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the edition is for others to read
    try:
        for name, data in files.items():
            path = staging.joinpath(*PurePosixPath(name).parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_zip(files: dict[str, bytes], zip_path: Path, top: str, executable: frozenset[str] = frozenset()) -> None:
    """A reproducible zip of `files` under the folder `top` ("": at the zip's root): sorted entries,
    fixed time and mode (0o755 for the names in `executable`, scripts run straight from the zip)."""
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{name}" if top else name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below means the same on every builder
            info.external_attr = (0o755 if name in executable else ZIP_FILE_MODE) << 16
            archive.writestr(info, files[name], compresslevel=9)
    os.replace(partial, zip_path)


def build_handout(assignments: list[str], out: Path) -> Handout:
    """Write the student edition of `assignments` into `out` and `out`.zip beside it."""
    out = Path(out).resolve()
    _check_destination(out)
    files = edition_files(assignments)
    _write_folder(files, out)
    zip_path = out.with_name(out.name + ".zip")
    write_zip(files, zip_path, out.name)
    return Handout(out, zip_path, len(files), sum(map(len, files.values())), zip_path.stat().st_size)
