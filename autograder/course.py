"""The course directory: where things are, and the nbgrader configuration.

The repository root is an nbgrader course root: `solutions/` is nbgrader's
source directory and `assignments/` its release directory, so plain
`nbgrader` commands work from the root (`nbgrader_config.py` calls
`configure`). The grading command uses the same `configure`, with its own
course directory for the grading state (gradebook, submitted/, autograded/,
feedback/).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"
ASSIGNMENTS = REPO_ROOT / "assignments"
SAMPLES = REPO_ROOT / "autograder" / "samples"          # sample submissions (hold reference answers)
ADVERSARIAL = REPO_ROOT / "autograder" / "adversarial"  # the adversarial corpus (built from them)
COURSE_ID = "optimlab"



@dataclass(frozen=True)
class Limits:
    """Limits of a grading kernel (optimlab-grade's --cell-timeout, --notebook-timeout, --memory-gib)."""

    cell_timeout: int = 120           # seconds one cell may run before it is interrupted
    notebook_timeout: int = 600       # seconds the whole notebook may run
    memory_limit: int = 4 * 2**30     # bytes of address space of the kernel
    disk_limit: int = 2**29           # bytes the kernel may write in all (submission and scratch folders)


def assignment_ids() -> list[str]:
    """The assignments, in course order (`NN_name` folders of solutions/)."""
    return sorted(p.name for p in SOLUTIONS.iterdir()
                  if p.is_dir() and p.name[:2].isdigit() and any(p.glob("*.ipynb")))


def master_notebook(assignment: str) -> Path:
    """The master notebook of `assignment` (each assignment has exactly one)."""
    notebooks = sorted((SOLUTIONS / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        known = ", ".join(assignment_ids())
        raise FileNotFoundError(
            f"There is no assignment {assignment!r} with one master notebook in solutions/ "
            f"(known: {known}).")
    return notebooks[0]


def notebook_name(assignment: str) -> str:
    """The file name students submit for `assignment`, e.g. 'losses.ipynb'."""
    return master_notebook(assignment).name


def protected_paths(course_dir: Path) -> list[Path]:
    """What a grading kernel must not see: references, their history, and the course's grading state."""
    state = [course_dir / name for name in ("gradebook.db", "submitted", "autograded", "feedback")]
    return [SOLUTIONS, SAMPLES, ADVERSARIAL, REPO_ROOT / ".git", *state]


def configure(c: Config, course_dir: Path = REPO_ROOT, release_dir: Path = ASSIGNMENTS,
              limits: Limits = Limits(), model_answers: bool = False) -> Config:
    """Fills an nbgrader configuration for a course rooted at `course_dir`.

    model_answers: the feedback shows the model answer beside each written
        answer (a self-learner grading their own notebook; never a class).
    """
    course_dir = Path(course_dir).resolve()
    c.CourseDirectory.root = str(course_dir)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.source_directory = str(SOLUTIONS)
    c.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    # Parallel graders write to one SQLite gradebook: a writer waits for the lock instead of failing.
    c.CourseDirectory.db_url = f"sqlite:///{course_dir / 'gradebook.db'}?timeout=120"

    c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

    c.Execute.timeout = limits.cell_timeout
    c.Execute.raise_on_iopub_timeout = False  # late output of a busy kernel is not a failure
    c.Execute.notebook_timeout = limits.notebook_timeout
    c.Execute.memory_limit = limits.memory_limit
    c.Execute.disk_limit = limits.disk_limit
    c.Execute.protected_paths = [str(p) for p in protected_paths(course_dir)]
    c.Autograde.sanitize_preprocessors = [
        "autograder.preprocessors.RestoreNotebook",
        "nbgrader.preprocessors.ClearOutput",
        "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.Autograde.autograde_preprocessors = [
        "autograder.preprocessors.Execute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "autograder.preprocessors.ScoreHiddenTests",
        "nbgrader.preprocessors.LimitOutput",
        "autograder.preprocessors.LimitOutputSize",
        "autograder.preprocessors.SanitizeStudentContent",
        "autograder.preprocessors.AddGradingNotes",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.GenerateFeedback.preprocessors = [
        "autograder.preprocessors.HideHiddenTests",
        "autograder.preprocessors.HideScoreEcho",
        "autograder.preprocessors.GetGrades",
        "autograder.preprocessors.DescribeQuestions",
        "autograder.preprocessors.AddModelAnswers",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    # One self-contained HTML file per student and notebook: math typeset as MathML, nothing loaded.
    c.GenerateFeedback.exporter_class = "autograder.feedback.FeedbackExporter"
    # nbgrader configures HTMLExporter with its own feedback template: ours is named for our exporter.
    c.FeedbackExporter.template_name = "optimlab_feedback"
    c.FeedbackExporter.extra_template_basedirs = [str(Path(__file__).parent / "feedback" / "templates")]
    c.AddModelAnswers.enabled = model_answers
    return c


def nbgrader_config(course_dir: Path = REPO_ROOT, release_dir: Path = ASSIGNMENTS,
                    limits: Limits = Limits(), model_answers: bool = False) -> Config:
    """A fresh configuration object for `course_dir`."""
    return configure(Config(), course_dir, release_dir, limits, model_answers)
