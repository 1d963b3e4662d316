"""What the student edition must never contain, and a scanner that looks for it.

The secrets are lines: every line of a solution region (`### BEGIN SOLUTION` .. `### END SOLUTION`) and
of a hidden-test region of a master notebook, every line of a model answer (a manually graded answer
cell of a master notebook), every line of the hidden-test specs (their cases and the wrong functions of
the known mistakes) and of the grading code (autograder/). Besides lines, whole files are secret: the
master notebooks, the sample and adversarial submissions, the specs, the grading code, a gradebook and
git's files, found by their bytes, their names or their format.

Lines are compared after normalization (surrounding and repeated whitespace, so re-indenting a line
does not hide it) and only when they say something: a line that students legitimately see anyway (the
public cells of a master notebook, the templates around solution regions) or that is too common to
mean anything (`return loss`, `pass`, `else:`, an import, a closing bracket) is not a secret. What is
left is distinctive: a reference line such as `margins[np.arange(num_examples), y] = 0` found anywhere
in the edition is a leak.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from autograder import course

REPO = course.REPO_ROOT
REGION = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
# Lines that say nothing on their own: keywords alone, returns of one name, imports, delimiters.
TRIVIAL = re.compile(r"""^(
      (return|yield|raise|pass|break|continue|else:|try:|finally:|except\b.*:)(\s+[\w.]+)?(\(\))?
    | (import|from)\s.*
    | [\])}]+[,:)]*
    | (\"\"\"|''')
    | \#.{0,30}
)$""", re.X)
MIN_CHARS = 12          # a line shorter than this (without spaces) is never called a secret
SQLITE_MAGIC = b"SQLite format 3\x00"
# Lines of a master solution that the library has too, each reviewed: an idiom, not the answer.
SHARED_IDIOMS = {
    "xp = array_namespace(x)": "how any Array API function finds its namespace (optimlab/layers.py)",
    "num_examples, num_classes = scores.shape": "unpacking the shape of a score matrix (optimlab/layers.py)",
    "rng = np.random.default_rng(0) if rng is None else rng": "a default generator (optimlab/train.py)",
}
FORBIDDEN_PARTS = {".git", "solutions", "autograder", "tests", "samples", "adversarial", "specs",
                   "submitted", "autograded", "feedback", "gradebook.db", "nbgrader_config.py"}


def normalize(line: str) -> str:
    """A line without surrounding whitespace and with every run of whitespace as one space."""
    return " ".join(line.split())


def meaningful(line: str) -> bool:
    """Whether a normalized line says enough that finding it elsewhere is not chance."""
    return len(line.replace(" ", "")) >= MIN_CHARS and not TRIVIAL.match(line)


# ---------------------------------------------------------------------------- the secrets


def _split_regions(source: str) -> tuple[list[str], list[str]]:
    """(lines inside solution / hidden-test regions, lines outside them) of a cell's source."""
    inside, outside, depth = [], [], 0
    for line in source.splitlines():
        match = REGION.match(line)
        if match:
            depth += 1 if match.group(1) == "BEGIN" else -1
        elif depth:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def _is_model_answer(cell) -> bool:
    nbgrader = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and nbgrader.get("solution", False)


def master_lines() -> tuple[dict[str, str], set[str]]:
    """({secret line: where it comes from}, lines the masters show students) of every master notebook."""
    secret, public = {}, set()
    for assignment in course.assignment_ids():
        path = course.master_notebook(assignment)
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            inside, outside = _split_regions(cell.source)
            if _is_model_answer(cell) and not any(REGION.match(line) for line in cell.source.splitlines()):
                inside, outside = inside + outside, []  # no markers: the whole cell is the model answer
            public.update(normalize(line) for line in outside)
            for line in inside:
                secret.setdefault(normalize(line), f"{path.relative_to(REPO)} cell {index}")
    return secret, public


def source_lines(folder: Path) -> dict[str, str]:
    """{line: file} of every Python file under `folder`."""
    lines = {}
    for path in sorted(folder.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            lines.setdefault(normalize(line), str(path.relative_to(REPO)))
    return lines


def secret_lines() -> dict[str, str]:
    """Every meaningful secret line, with where it comes from.

    Master notebooks and specs: every line of their secret parts, but the reviewed SHARED_IDIOMS.
    Grading code: its lines but those the library has too (`args = parser.parse_args(argv)`,
    `@dataclass(frozen=True)`: the two share Python idioms, not secrets). A solution line that
    appears in the library is a leak, unless reviewed as an idiom.
    """
    masters, public = master_lines()
    secrets = {**source_lines(REPO / "autograder" / "specs"), **masters}
    library = set(source_lines(REPO / "optimlab"))
    for line, origin in source_lines(REPO / "autograder").items():
        if line not in library:
            secrets.setdefault(line, origin)
    return {line: origin for line, origin in secrets.items()
            if meaningful(line) and line not in public and line not in SHARED_IDIOMS}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def secret_files() -> dict[str, str]:
    """{sha256: path} of every file that is secret as a whole. A file with the bytes of a released
    notebook (the `untouched` sample submissions are exactly that) is the students' anyway."""
    released = {_sha256(p.read_bytes()) for p in course.ASSIGNMENTS.rglob("*") if p.is_file()}
    folders = [REPO / "solutions", REPO / "autograder", REPO / "tests"]
    templates = REPO / "autograder" / "edition"  # the students' README and set-up files: theirs
    hashes = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if (path.is_file() and "__pycache__" not in path.parts and path.stat().st_size
                    and templates not in path.parents):
                hashes[_sha256(path.read_bytes())] = str(path.relative_to(REPO))
    return {digest: path for digest, path in hashes.items() if digest not in released}


# ---------------------------------------------------------------------------- the scan


@dataclass
class Scan:
    """What a scan of an edition found, and how much it looked at."""

    files: int = 0
    lines: int = 0            # lines of text files and notebook cells
    binary_lines: int = 0     # "lines" of binary files (the data), read as Latin-1
    leaks: list[str] = field(default_factory=list)


class Scanner:
    """Looks through an edition's files (a folder, or the members of a zip) for secrets."""

    def __init__(self):
        self.lines = secret_lines()
        self.files = secret_files()

    def scan_folder(self, folder: Path) -> Scan:
        result = Scan()
        for path in sorted(folder.rglob("*")):
            relative = PurePosixPath(*path.relative_to(folder).parts)
            if path.is_dir():
                self._check_name(relative, result)
            elif path.is_file():
                self._check_file(str(relative), path.read_bytes(), result)
        return result

    def scan_zip(self, zip_path: Path) -> Scan:
        result = Scan()
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    self._check_name(PurePosixPath(info.filename), result)
                else:
                    self._check_file(f"{zip_path.name}:{info.filename}", archive.read(info), result)
        return result

    def _check_name(self, relative: PurePosixPath, result: Scan) -> None:
        forbidden = FORBIDDEN_PARTS.intersection(part.lower() for part in relative.parts)
        if forbidden:
            result.leaks.append(f"{relative}: an instructor's path ({', '.join(sorted(forbidden))})")

    def _check_file(self, name: str, data: bytes, result: Scan) -> None:
        result.files += 1
        self._check_name(PurePosixPath(name.split(":")[-1]), result)
        digest = _sha256(data)
        if digest in self.files:
            result.leaks.append(f"{name}: a copy of {self.files[digest]}")
        if data.startswith(SQLITE_MAGIC):
            result.leaks.append(f"{name}: an SQLite database (a gradebook?)")
        if name.endswith(".zip") or data.startswith(b"PK\x03\x04"):
            result.leaks.append(f"{name}: an archive inside the edition")
        binary = b"\x00" in data[:8192]
        for line in self._text_lines(name, data):
            if binary:
                result.binary_lines += 1
            else:
                result.lines += 1
            key = normalize(line)
            if key in self.lines:
                result.leaks.append(f"{name}: line {key[:70]!r} from {self.lines[key]}")
            if re.search(r"\b(import|from)\s+autograder\b", line):
                result.leaks.append(f"{name}: imports the grading code: {key[:70]!r}")

    @staticmethod
    def _text_lines(name: str, data: bytes) -> list[str]:
        """The lines of a file: of every cell and output of a notebook, of the text of anything else
        (binary files are read as Latin-1, which never fails, so a line hidden in them is found too)."""
        text = data.decode("latin-1")
        if data.lstrip()[:1] == b"{":  # a notebook under any name: its cells' lines as written
            try:
                nb = json.loads(data)
                text = "\n".join([text] + ["".join(c.get("source", "")) for c in nb.get("cells", [])])
            except (ValueError, AttributeError, TypeError):
                pass
        return text.splitlines()
