"""nbgrader preprocessors that make up our grading pipeline.

They slot into nbgrader's own chain (`autograder.course.configure`), one job each:

sanitizing the submission
- `RestoreNotebook` rebuilds the submission on the master notebook's cells:
  only the answer cells (and cells the student added) come from the student.

autograding
- `Execute` runs it in a limited kernel (`autograder.sandbox`), in fast mode,
  with per-cell and per-notebook time limits, and survives a dying kernel.
- `ScoreHiddenTests` replaces the raw results of every hidden-test cell with
  the score and feedback computed outside the kernel.
- `LimitOutputSize` caps what any output may weigh.
- `AddGradingNotes` puts one line per limit that was hit at the top of the notebook.
- `SanitizeStudentContent` makes what the student wrote or produced inert (no script,
  event handler, frame or unsafe link survives in any renderer) before it is saved.

feedback (rendered by `autograder.feedback.FeedbackExporter`)
- `HideHiddenTests` removes the hidden tests' source before rendering.
- `HideScoreEcho` drops the bare score nbgrader reads under a hidden-test cell.
- `GetGrades` reads the grades, and which written answers await a grader.
- `DescribeQuestions` names every graded cell for the index.
- `AddModelAnswers` puts the model answers beside the written ones (self-learners only).
"""
from autograder.preprocessors.execute import Execute, SandboxedKernelManager
from autograder.preprocessors.feedback import AddModelAnswers, DescribeQuestions, GetGrades
from autograder.preprocessors.hidden_tests import SUBMIT_CALL, HideHiddenTests, HideScoreEcho, ScoreHiddenTests
from autograder.preprocessors.notes import AddGradingNotes, LimitOutputSize
from autograder.preprocessors.restore import RestoreNotebook
from autograder.preprocessors.sanitize import SanitizeStudentContent

__all__ = ["AddGradingNotes", "AddModelAnswers", "DescribeQuestions", "Execute", "GetGrades", "HideHiddenTests",
           "HideScoreEcho", "LimitOutputSize", "RestoreNotebook", "SUBMIT_CALL", "SandboxedKernelManager",
           "SanitizeStudentContent", "ScoreHiddenTests"]
