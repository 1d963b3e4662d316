"""Finding submissions and putting them where nbgrader expects them.

Accepted layouts of a submissions folder:

- nbgrader's own: `<src>/<student>/<assignment>/<notebook>.ipynb`
- one folder per assignment: `<src>/<assignment>/<student>.ipynb` (or `.zip`)
- flat: `<src>/<student>.ipynb` (or `.zip`), with the assignment given or
  recognised from the notebook's graded cells
- a single notebook (a self-learner grading their own work)

Every submission ends up as `<course>/submitted/<student>/<assignment>/<notebook>`
under the assignment's official notebook name. A submission that cannot be
read (not JSON, not a notebook, an empty file, a zip without a notebook) is
reported with one sentence and graded as missing, so the batch goes on.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import assignment_ids, master_notebook, notebook_name

STUDENT_ID = re.compile(r"[^A-Za-z0-9_.@-]+")
MAX_NOTEBOOK_BYTES = 50 * 2**20


class SubmissionError(Exception):
    """A submission that cannot be graded; the message is one sentence for the instructor."""


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path                 # the notebook or zip as found
    timestamp: dt.datetime
    problem: str | None = None  # why it cannot be graded, if it cannot


def student_id(name: str) -> str:
    """A safe student id from a file or folder name."""
    cleaned = STUDENT_ID.sub("_", name).strip("._")
    return cleaned or "unnamed"


def _grade_ids(nb: dict) -> set[str]:
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            for c in nb.get("cells", []) if isinstance(c, dict)} - {None}


def recognise_assignment(nb: dict) -> str | None:
    """The assignment whose master notebook shares the most graded cell ids with `nb`."""
    ids = _grade_ids(nb)
    best, overlap = None, 0
    for assignment in assignment_ids():
        master = json.loads(master_notebook(assignment).read_text())
        shared = len(ids & _grade_ids(master))
        if shared > overlap:
            best, overlap = assignment, shared
    return best


def read_notebook_bytes(path: Path, preferred: tuple[str, ...] = ()) -> bytes:
    """The notebook's bytes: the file itself, or the notebook inside a zip.

    A zip may hold other notebooks too when exactly one has a `preferred`
    name (an assignment's notebook name); otherwise it must hold exactly one.
    """
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB.")
    if path.suffix.lower() != ".zip":
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as zf:
            # Members are read into memory by name, never extracted, so a member
            # called ../../x cannot write anywhere.
            notebooks = [m for m in zf.infolist()
                         if m.filename.endswith(".ipynb") and "__MACOSX" not in m.filename
                         and ".ipynb_checkpoints" not in m.filename]
            named = [m for m in notebooks if Path(m.filename).name in preferred]
            if len(named) == 1:
                notebooks = named
            if len(notebooks) != 1:
                raise SubmissionError(
                    f"{path.name} must contain exactly one notebook (.ipynb); it contains {len(notebooks)}.")
            if notebooks[0].file_size > MAX_NOTEBOOK_BYTES:
                raise SubmissionError(f"The notebook in {path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB.")
            return zf.read(notebooks[0])
    except zipfile.BadZipFile:
        raise SubmissionError(f"{path.name} is not a valid zip file.") from None


def parse_notebook(data: bytes, name: str) -> dict:
    """The notebook as a dict, or a SubmissionError saying why it is not one."""
    if not data.strip():
        raise SubmissionError(f"{name} is empty.")
    try:
        nb = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SubmissionError(f"{name} is not a notebook (it is not valid JSON); resubmit the .ipynb file.") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise SubmissionError(f"{name} is not a Jupyter notebook in format 4; resubmit the .ipynb file.")
    return nb


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc)


def _nbgrader_timestamp(folder: Path) -> dt.datetime:
    stamp = folder / "timestamp.txt"
    if stamp.exists():
        try:
            from nbgrader.utils import parse_utc
            return parse_utc(stamp.read_text().strip())
        except (ValueError, TypeError):
            pass
    return _mtime(folder)


def _is_submission_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (".ipynb", ".zip") and not path.name.startswith(".")


def _from_file(path: Path, student: str, assignment: str | None) -> Submission:
    """A submission from one file; without `assignment`, recognised from the notebook."""
    sub = Submission(student, assignment or "", path, _mtime(path))
    if assignment is None:
        try:
            names = tuple(notebook_name(a) for a in assignment_ids())
            nb = parse_notebook(read_notebook_bytes(path, names), path.name)
            sub.assignment = recognise_assignment(nb) or ""
        except SubmissionError as err:
            sub.problem = str(err)
        if not sub.assignment and not sub.problem:
            sub.problem = f"{path.name} matches no assignment; pass --assignment."
    return sub


def find_submissions(source: Path, assignment: str | None = None) -> list[Submission]:
    """All submissions under `source` (a folder in any accepted layout, or one notebook)."""
    source = Path(source)
    if not source.exists():
        raise SubmissionError(f"{source} does not exist.")
    if source.is_file():
        return [_from_file(source, "self", assignment)]
    known = set(assignment_ids())
    found = []
    for child in sorted(source.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir() and child.name in known:                  # <assignment>/<student>.ipynb
            found += [_from_file(f, student_id(f.stem), child.name)
                      for f in sorted(child.iterdir()) if _is_submission_file(f)]
        elif child.is_dir():                                        # <student>/<assignment>/*.ipynb
            for sub in sorted(p for p in child.iterdir() if p.is_dir() and p.name in known):
                if assignment and sub.name != assignment:
                    continue
                notebooks = sorted(sub.glob("*.ipynb"))
                path = next((p for p in notebooks if p.name == notebook_name(sub.name)),
                            notebooks[0] if len(notebooks) == 1 else sub)
                s = Submission(student_id(child.name), sub.name, path, _nbgrader_timestamp(sub))
                if path == sub:
                    s.problem = (f"{child.name}/{sub.name} has no notebook named {notebook_name(sub.name)}."
                                 if notebooks else f"{child.name}/{sub.name} contains no notebook.")
                found.append(s)
        elif _is_submission_file(child):                            # <student>.ipynb
            found.append(_from_file(child, student_id(child.stem), assignment))
    # A flat folder holds one assignment: files that could not be read belong to it too,
    # so they get their row (with zero points and the reason) in the gradebook.
    recognised = {s.assignment for s in found if s.assignment}
    for s in found:
        if not s.assignment and len(recognised) == 1:
            s.assignment = next(iter(recognised))
    return [s for s in found if assignment is None or s.assignment == assignment]


SUBMISSION_SECRET = "submission_secret.txt"  # written by `nbgrader submit`, read by `release_feedback`


def place(sub: Submission, course_dir: Path) -> Path:
    """Writes the submission into `<course>/submitted/<student>/<assignment>/`.

    Returns the folder. A submission with a problem gets an empty folder (so it
    is graded as missing) and keeps its problem.
    """
    folder = Path(course_dir) / "submitted" / sub.student / sub.assignment
    # Read everything first: after `nbgrader collect` the submission already is this folder.
    nb = None
    if sub.problem is None:
        try:
            data = read_notebook_bytes(sub.path, (notebook_name(sub.assignment),))
            nb = nbformat.reads(json.dumps(parse_notebook(data, sub.path.name)), as_version=4)
        except SubmissionError as err:
            sub.problem = str(err)
        except Exception as err:  # noqa: BLE001 - nbformat rejects many malformed notebooks
            sub.problem = f"{sub.path.name} could not be read as a notebook ({type(err).__name__})."
    # nbgrader's exchange names a student's feedback after the secret of a submission in its
    # layout (<student>/<assignment>/<notebook>, as `nbgrader collect` writes it): keep it.
    secret = sub.path.parent / SUBMISSION_SECRET
    in_nbgrader_layout = sub.path.parent.name == sub.assignment and sub.path.parent.parent.name == sub.student
    secret = secret.read_bytes() if in_nbgrader_layout and secret.is_file() else None
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text(sub.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    if secret is not None:
        (folder / SUBMISSION_SECRET).write_bytes(secret)
    if nb is not None:
        nbformat.write(nb, folder / notebook_name(sub.assignment))
    return folder
