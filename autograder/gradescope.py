"""Gradescope courses: the autograder zip, and the grading that runs inside Gradescope.

    optimlab-grade gradescope ASSIGNMENT --out FILE.zip

writes an autograder zip in Gradescope's documented layout (setup.sh and
run_autograder at its root; Gradescope unpacks the zip into /autograder/source):

    setup.sh, run_autograder          from autograder/gradescope_files/
    course/pyproject.toml             the project, installed by setup.sh from the package index
    course/constraints.txt            the versions of this environment, so Gradescope grades with them
    course/autograder/, optimlab/     the grading package and the helper library (code only: no sample
                                      submissions, adversarial corpus or student edition)
    course/data/sample/               the sample dataset the notebooks read when graded (fast mode)
    course/solutions/NN_name/...      the master notebook of this one assignment

setup.sh (run once, as root, when Gradescope builds the image) installs Python
3.11, copies `course/` to /autograder/course and installs it into a virtual
environment. run_autograder (run once per submission) calls `run` below: the
student's one notebook in /autograder/submission is graded by exactly the
pipeline of `optimlab-grade grade` (`autograder.core.grade_submission`: rebuilt
on the master's cells, sandboxed kernel, the same limits, scores computed
outside the kernel), and /autograder/results/results.json is written from what
it returns. The kernel sees neither /autograder/source, /autograder/results,
/autograder/submission nor the master notebook (the sandbox hides them), and
its output is never parsed: nothing it does reaches results.json.

Every path is under the folder of the environment variable GRADESCOPE_ROOT
(default /autograder), so the tests run all of it without Gradescope.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from string import Template

from autograder import course

FILES = Path(__file__).resolve().parent / "gradescope_files"
DEFAULT_ROOT = "/autograder"
STUDENT = "gradescope"  # the student id inside the scratch course (Gradescope knows who it is)
# When the hidden tests' feedback is shown to students (Gradescope's test visibility):
# after the instructor publishes the grades, as nbgrader's release_feedback does.
VISIBILITIES = ("after_published", "after_due_date", "visible", "hidden")
DEFAULT_VISIBILITY = "after_published"
GRADER_MEMORY = 768 * 2**20  # what the grading process itself needs beside the kernel, in bytes
MAX_ANSWER_CHARS = 5_000  # of a written answer, repeated for the grader in its test's output
# Folders of the grading package that hold data, not code: never in the zip.
LEFT_OUT = frozenset({"samples", "adversarial", "edition"})


class GradescopeError(Exception):
    """The autograder zip cannot be built as asked; one sentence."""


# ------------------------------------------------------------------------------ the zip


def _package_files(package: str) -> dict[str, bytes]:
    """The code of `package` (its .py files and package data), as {'course/<package>/...': bytes}."""
    from autograder.handout import _tree

    files = _tree(course.REPO_ROOT / package, f"course/{package}")
    kept = {}
    for name, data in files.items():
        parts = PurePosixPath(name).parts[2:]
        if package == "autograder" and len(parts) > 1 and parts[0] in LEFT_OUT and not name.endswith(".py"):
            continue  # sample and adversarial notebooks, the student edition's templates
        kept[name] = data
    return kept


def constraints() -> str:
    """`name==version` of every distribution of this environment, so Gradescope installs the same
    versions of what grading needs (pip ignores the lines of packages it does not install)."""
    pins = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        # A local version (torch's "+cpu") is not on the package index; the project itself is installed from the zip.
        if name and "+" not in dist.version and name.lower() != "optimlab":
            pins[name.lower()] = f"{name}=={dist.version}"
    return "".join(f"{pin}\n" for _, pin in sorted(pins.items()))


def _script(name: str, assignment: str, visibility: str) -> bytes:
    """setup.sh or run_autograder for `assignment` (a `string.Template`: `$$` is a shell `$`)."""
    template = Template((FILES / name).read_text(encoding="utf-8"))
    return template.substitute(assignment=assignment, visibility=visibility).encode()


def autograder_files(assignment: str, visibility: str = DEFAULT_VISIBILITY) -> dict[str, bytes]:
    """The autograder zip's contents, {relative POSIX path: bytes}, for one assignment.

    visibility: when students see the hidden tests' feedback (Gradescope's test visibility).
    """
    from autograder.handout import _tree

    master = course.master_notebook(assignment)  # one clear sentence for an unknown name
    files = {
        "setup.sh": _script("setup.sh", assignment, visibility),
        "run_autograder": _script("run_autograder", assignment, visibility),
        "course/pyproject.toml": (course.REPO_ROOT / "pyproject.toml").read_bytes(),
        "course/README.md": (f"# OptimLab grading package\n\nThe grader of {assignment} for a Gradescope "
                             "autograder, built by `optimlab-grade gradescope`.\n").encode(),
        "course/constraints.txt": constraints().encode(),
        f"course/solutions/{assignment}/{master.name}": master.read_bytes(),
    }
    files |= _package_files("autograder")
    files |= _package_files("optimlab")
    files |= _tree(course.REPO_ROOT / "data" / "sample", "course/data/sample")
    return dict(sorted(files.items()))


@dataclass(frozen=True)
class Autograder:
    """A written autograder zip and what the instructor sets up on Gradescope for it."""

    zip_path: Path
    files: int
    zip_bytes: int
    autograded_points: float             # the points of the autograder question
    written: list[tuple[str, float]]     # (question, points) of each written answer: manual questions


def _points(assignment: str) -> tuple[float, list[tuple[str, float]]]:
    """Points of the hidden tests, and (label, points) of the written answers, from the master."""
    import nbformat
    from nbgrader import utils

    from autograder.preprocessors.feedback import DescribeQuestions, is_written_answer

    nb = nbformat.read(course.master_notebook(assignment), as_version=4)
    DescribeQuestions().preprocess(nb, {})
    auto, written = 0.0, []
    for cell in nb.cells:
        if utils.is_grade(cell):
            points = float(cell.metadata.nbgrader["points"])
            if is_written_answer(cell):
                written.append((cell.metadata.optimlab_feedback.title, points))
            else:
                auto += points
    return auto, written


def build_autograder(assignment: str, out: Path, visibility: str = DEFAULT_VISIBILITY) -> Autograder:
    """Writes the Gradescope autograder zip of `assignment` to `out` (reproducible for one environment)."""
    from autograder.handout import write_zip

    out = Path(out).resolve()
    if out.suffix.lower() != ".zip":
        raise GradescopeError(f"{out.name} is not a .zip file name; give --out a name such as {assignment}.zip.")
    if out.is_dir():
        raise GradescopeError(f"{out} is a folder; give --out a file name such as {out / assignment}.zip.")
    if visibility not in VISIBILITIES:
        raise GradescopeError(f"{visibility!r} is not a Gradescope visibility; "
                              f"choose one of {', '.join(VISIBILITIES)}.")
    files = autograder_files(assignment, visibility)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_zip(files, out, top="", executable=frozenset({"setup.sh", "run_autograder"}))
    auto, written = _points(assignment)
    return Autograder(out, len(files), out.stat().st_size, auto, written)


# ------------------------------------------------------------------------ results.json


def _gradescope_root() -> Path:
    return Path(os.environ.get("GRADESCOPE_ROOT") or DEFAULT_ROOT)


def results_path(root: Path) -> Path:
    return root / "results" / "results.json"


def write_results(root: Path, results: dict) -> None:
    """Writes results.json whole: into a new file beside it, then renamed over it."""
    path = results_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".results-{os.getpid()}.json")
    partial.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def not_graded(sentence: str, seconds: float = 0.0) -> dict:
    """The results of a submission that could not be graded: zero points and the one sentence."""
    return {"score": 0.0, "execution_time": round(seconds), "output": sentence, "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def _output_text(cell) -> str:
    """What the feedback HTML shows under a hidden-test cell: the cases that failed and the diagnosed
    mistake, or why the tests could not run (the score echo and the zero's error are left out,
    as `HideScoreEcho` leaves them out of the HTML)."""
    from autograder.preprocessors.hidden_tests import FAILED

    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error" and output.get("ename") != FAILED:
            parts.append(str(output.get("evalue", "")))
    return "\n".join(p.rstrip("\n") for p in parts if p.strip())


def _written_output(cell, points: float) -> str:
    answer = cell.source.strip()
    if len(answer) > MAX_ANSWER_CHARS:
        answer = answer[:MAX_ANSWER_CHARS] + f"\n[... cut at {MAX_ANSWER_CHARS} characters]"
    return (f"A written answer ({points:g} points), graded by hand in this assignment's manual question; "
            f"it does not count in the autograder score.\n\n{answer}")


def tests_of(graded, visibility: str) -> list[dict]:
    """One Gradescope test per grade cell of the autograded notebook, in the notebook's order.

    Hidden-test cells: name (the function or answer checked), score and
    max_score as the gradebook records them, the feedback text as output.
    Written answers: max_score and no score (a person grades them), tagged
    "manual". Never a cell's source: the hidden tests stay hidden.
    """
    import nbformat
    from nbgrader import utils

    from autograder.preprocessors.feedback import DescribeQuestions, is_written_answer

    scores = {(g.notebook, g.grade_id): g for g in graded.grades}
    tests = []
    for name, data in sorted(graded.autograded.items()):
        if not name.endswith(".ipynb"):
            continue
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        DescribeQuestions().preprocess(nb, {})
        for cell in nb.cells:
            if not utils.is_grade(cell):
                continue
            grade = scores[(name[:-len(".ipynb")], cell.metadata.nbgrader["grade_id"])]
            about = cell.metadata.optimlab_feedback
            test = {"name": about.title, "number": str(len(tests) + 1), "max_score": grade.max_score,
                    "tags": [about.kind] + ([about.section] if about.section else []),
                    "visibility": visibility, "output_format": "text", "name_format": "text"}
            if is_written_answer(cell):
                test["tags"].append("manual")
                test["output"] = _written_output(cell, grade.max_score)
            else:
                test["score"] = grade.auto_score or 0.0
                test["output"] = _output_text(cell)
            tests.append(test)
    return tests


def results_of(graded, visibility: str, seconds: float, remarks: list[str]) -> dict:
    """Gradescope's results.json for a graded submission (`autograder.core.Graded`).

    score: the autograded points only; written answers are Gradescope manual
    questions. output: the summary and the grading notes (limits hit, kernel
    deaths), always visible, so a student learns at once that their notebook
    could not run as it should. stdout (the instructor's log) stays hidden.
    """
    if graded.problem is not None:
        return not_graded(f"Your submission could not be graded: {graded.problem}", seconds)
    tests = tests_of(graded, visibility)
    manual = [t for t in tests if "score" not in t]
    auto_max = sum(t["max_score"] for t in tests if "score" in t)
    when = {"after_published": "once your instructor publishes the grades", "after_due_date": "after the due date"}
    if visibility == "visible":
        lines = [f"Autograded: {graded.score:g} of {auto_max:g} points from the hidden tests."]
    else:  # this summary is always visible: it must not tell the score the tests' visibility holds back
        lines = [f"Your notebook was graded; your score and the hidden tests' feedback are shown "
                 f"{when.get(visibility, 'by your instructor')}."]
    if manual:
        lines.append(f"Your {len(manual)} written answers ({sum(t['max_score'] for t in manual):g} points) "
                     "are graded by hand.")
    notes = list(remarks) + list(graded.notes)
    if notes:
        lines += ["", "Grading notes:"] + [f"- {n[0].upper()}{n[1:]}." for n in notes]
    # Rounded: a sum of per-cell scores like 25.840000000000003 reads as 25.84 on Gradescope.
    return {"score": round(graded.score, 6), "execution_time": round(seconds), "output": "\n".join(lines),
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests, "extra_data": {"assignment": graded.assignment, "worker": graded.worker}}


# ------------------------------------------------------------------------- the submission


def _candidates(folder: Path) -> list[Path]:
    """The files a student uploaded (no editor or macOS leftovers), in a fixed order."""
    junk = {".ipynb_checkpoints", "__MACOSX"}
    return [p for p in sorted(folder.rglob("*"))
            if p.is_file() and not junk.intersection(p.relative_to(folder).parts) and not p.name.startswith("._")]


def submitted_notebook(folder: Path, assignment: str) -> tuple[bytes | None, str | None, list[str]]:
    """(the notebook's bytes, None, remarks) or (None, the one sentence saying why there is none, []).

    The notebook named as the assignment's is graded, whatever else was
    uploaded (a remark says what was left out); without one, a single
    notebook (or a zip holding one) is graded under that name.
    """
    from autograder.collect import SubmissionError, read_notebook_bytes

    expected = course.notebook_name(assignment)
    files = _candidates(folder) if folder.is_dir() else []
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    named = [p for p in notebooks if p.name == expected]
    others = [p.name for p in notebooks if p.name != expected]
    if len(named) > 1:
        return None, f"{len(named)} files named {expected} were submitted; submit only one.", []
    if named:
        remarks = [f"only {expected} was graded, not {', '.join(others)}"] if others else []
        return named[0].read_bytes(), None, remarks
    if len(notebooks) == 1:
        return notebooks[0].read_bytes(), None, [f"the notebook {notebooks[0].name} was graded as {expected}"]
    if notebooks:
        return None, (f"{len(notebooks)} notebooks were submitted and none is named {expected}; "
                      f"submit only {expected}."), []
    zips = [p for p in files if p.suffix.lower() == ".zip"]
    if len(zips) == 1:
        try:
            return read_notebook_bytes(zips[0], (expected,)), None, []
        except SubmissionError as err:
            return None, str(err), []
    return None, f"No notebook was submitted; upload your {expected}.", []


def _handed_in(root: Path) -> dt.datetime:
    """When Gradescope received the submission (submission_metadata.json), else now."""
    try:
        created = json.loads((root / "submission_metadata.json").read_text())["created_at"]
        return dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return dt.datetime.now(dt.timezone.utc)


def kernel_hidden(root: Path) -> tuple[str, ...]:
    """Gradescope's folders the grading kernel must not see, besides the course's own
    (`course.protected_paths`, which holds the master notebook)."""
    return tuple(str(root / name) for name in ("source", "results", "submission", "submission_metadata.json"))


def container_memory() -> int | None:
    """Bytes of memory this container may use (its cgroup's limit), or None when unlimited or unknown."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 2**60:  # cgroup v1 writes a huge number for "no limit"
            return int(value)
    return None


def fitted_limits(limits: course.Limits, memory: int | None) -> course.Limits:
    """`limits` with the kernel's memory limit lowered, if need be, to fit a container of `memory` bytes.

    Gradescope kills the whole container at its memory setting (768 MB by
    default), results.json and all; a kernel held below it, with GRADER_MEMORY
    left for the grader, gets a MemoryError and a grading note instead.
    """
    if memory is None or limits.memory_limit + GRADER_MEMORY <= memory:
        return limits
    return dataclasses.replace(limits, memory_limit=max(memory - GRADER_MEMORY, GRADER_MEMORY))


def run(root: Path, assignment: str, visibility: str = DEFAULT_VISIBILITY,
        limits: course.Limits = course.Limits()) -> dict:
    """Grades the submission in `root`/submission and returns its results.json (not yet written)."""
    from autograder.core import Job, grade_submission

    started = time.perf_counter()
    notebook, problem, remarks = submitted_notebook(root / "submission", assignment)
    if notebook is None:
        return not_graded(f"Your submission could not be graded: {problem}", time.perf_counter() - started)
    limits = fitted_limits(limits, container_memory())
    print(f"kernel limits: {limits}")
    job = Job(STUDENT, assignment, notebook, _handed_in(root), limits, kernel_hidden(root))
    graded = grade_submission(job)
    return results_of(graded, visibility, time.perf_counter() - started, remarks)


def _log(results: dict) -> None:
    """The instructor's view on stdout (Gradescope shows it to instructors only)."""
    print(f"score {results['score']:g} in {results['execution_time']} s")
    for test in results["tests"]:
        score = f"{test['score']:g}" if "score" in test else "manual"
        print(f"  {test['number']:>3} {test['name']:<32} {score:>6} / {test['max_score']:g}")
    print(results["output"])
    if "graded without a private file system" in results["output"]:
        print("WARNING: this container refused the kernel a private file system: student code could read "
              "/autograder/source and the master notebook and write /autograder/results (see the README's "
              "\"Gradescope courses\").")


def main_run(assignment: str, visibility: str) -> int:
    """run_autograder's entry point: results.json is written whatever happens."""
    root = _gradescope_root()
    started = time.perf_counter()
    # Written first: if grading is killed (the machine's time or memory limit), this one stays.
    write_results(root, not_graded("Grading stopped before it finished (the autograder ran out of time or "
                                   "memory); ask your instructor to look at this submission."))
    try:
        results = run(root, assignment, visibility)
    except BaseException as err:  # noqa: BLE001 - the last resort: never a crashed autograder
        traceback.print_exc()  # the instructor's log
        results = not_graded(f"The autograder failed on this submission ({type(err).__name__}); it is not "
                             "your fault: ask your instructor to regrade it.", time.perf_counter() - started)
    write_results(root, results)
    _log(results)
    return 0


def main_prepare(assignment: str) -> int:
    """setup.sh's last step: load and cache what grading needs, so each submission starts at once."""
    from autograder.core import prepare

    prepare(assignment)
    print(f"ready to grade {assignment} ({course.notebook_name(assignment)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope",
                                     description="The grading side of the Gradescope autograder.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade $GRADESCOPE_ROOT/submission into results/results.json")
    p.add_argument("--assignment", required=True)
    p.add_argument("--visibility", choices=VISIBILITIES, default=DEFAULT_VISIBILITY)
    p = sub.add_parser("prepare", help="load what grading needs (setup.sh)")
    p.add_argument("--assignment", required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        return main_run(args.assignment, args.visibility)
    return main_prepare(args.assignment)


if __name__ == "__main__":
    sys.exit(main())
