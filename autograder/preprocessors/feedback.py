"""What the feedback template shows beside the notebook: grades, question names, model answers.

They run in nbgrader's GenerateFeedback step (`autograder.course.configure`)
on the autograded notebook, before `autograder.feedback.FeedbackExporter`
renders it. Each writes what it found into the cell's `optimlab_feedback`
metadata (or nbgrader's own), which the template reads; none of it is saved
back into the autograded notebook.
"""
from __future__ import annotations

from functools import lru_cache

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import GetGrades as NbgraderGetGrades
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool

from autograder.course import master_notebook

FEEDBACK = "optimlab_feedback"  # the cell metadata the template reads


def _feedback_metadata(cell: NotebookNode) -> NotebookNode:
    return cell.metadata.setdefault(FEEDBACK, NotebookNode())


def is_written_answer(cell: NotebookNode) -> bool:
    """A markdown answer cell that a person grades (a written response)."""
    return cell.cell_type == "markdown" and utils.is_grade(cell) and utils.is_solution(cell)


class GetGrades(NbgraderGetGrades):
    """nbgrader's GetGrades, which also tells which answers still await a grader.

    Sets `cell.metadata.nbgrader.needs_manual_grade` on every graded cell and
    `resources["nbgrader"]["pending_points"]`, the points of those answers.
    """

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        resources["nbgrader"]["pending_points"] = sum(
            float(c.metadata.nbgrader["points"]) for c in nb.cells
            if utils.is_grade(c) and c.metadata.nbgrader.get("needs_manual_grade"))
        return nb, resources

    def _get_score(self, cell, resources):
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.nbgrader["needs_manual_grade"] = bool(grade.needs_manual_grade)


def _section(cell: NotebookNode) -> str | None:
    """The text of the last section heading (# or ##, not a subsection's ###) of a markdown cell."""
    if cell.cell_type != "markdown":
        return None
    headings = [line.lstrip("#").strip() for line in cell.source.splitlines()
                if line.startswith(("# ", "## "))]
    return headings[-1] if headings else None


def _question_label(cell: NotebookNode) -> str | None:
    """'Question 2' from a question cell that opens with '**Question 2 (2 points).**'."""
    if cell.cell_type != "markdown" or not cell.source.startswith("**"):
        return None
    lead = cell.source[2:].split("**", 1)[0]
    label = lead.split("(", 1)[0].strip().rstrip(".:").strip()
    return label or None


class DescribeQuestions(NbGraderPreprocessor):
    """Names every graded cell for the feedback's index.

    Sets `title` (the hidden test's function or answer name, or the written
    question's label such as 'Question 2'), `kind` ('hidden tests', 'written
    answer', 'answer') and `section` (the heading of the section the cell is in).
    """

    def preprocess(self, nb, resources):
        section, previous = None, None
        for cell in nb.cells:
            section = _section(cell) or section
            if utils.is_grade(cell) or utils.is_task(cell):
                meta = _feedback_metadata(cell)
                meta.section = section or ""
                meta.title, meta.kind = self._title(cell, previous)
            previous = cell
        return nb, resources

    @staticmethod
    def _title(cell: NotebookNode, previous: NotebookNode | None) -> tuple[str, str]:
        check = cell.metadata.get("optimlab", {}).get("check")
        if check:
            return check, "hidden tests"
        grade_id = cell.metadata.nbgrader.get("grade_id", "")
        if is_written_answer(cell):
            return (previous is not None and _question_label(previous)) or grade_id, "written answer"
        return grade_id, "answer"


def solution_region(source: str) -> str:
    """The lines between `BEGIN SOLUTION` and `END SOLUTION` (nbgrader's delimiters), or all of `source`.

    The region is what the student's version replaces with 'YOUR ANSWER HERE';
    the lines around it (a prompt such as '**Your answer to Question 1:**')
    are in the student's answer too.
    """
    lines = source.splitlines()
    begin = next((i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line), None)
    end = next((i for i, line in enumerate(lines) if "END SOLUTION" in line), None)
    if begin is None or end is None or end < begin:
        return source
    return "\n".join(lines[begin + 1:end]).strip()


@lru_cache(maxsize=None)
def model_answers(assignment: str) -> dict[str, str]:
    """{grade_id: Markdown of the model answer} of every written answer of the master notebook."""
    nb = nbformat.read(master_notebook(assignment), as_version=4)
    return {c.metadata.nbgrader["grade_id"]: solution_region(c.source) for c in nb.cells if is_written_answer(c)}


class AddModelAnswers(NbGraderPreprocessor):
    """Puts the master notebook's model answer beside each written answer, for self-learners only.

    Off unless `AddModelAnswers.enabled` is set: in a class the feedback goes
    to students who may share it, and the model answers must stay with the
    instructor. A self-learner grading their own notebook has them anyway.
    """

    enabled = Bool(False, help="Show the model answer beside each written answer "
                               "(a self-learner's own grading; never a class's).").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        answers = model_answers(resources["nbgrader"]["assignment"])
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if is_written_answer(cell) and grade_id in answers:
                _feedback_metadata(cell).model_answer = answers[grade_id]
        return nb, resources
