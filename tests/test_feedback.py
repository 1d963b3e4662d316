"""The feedback a student reads: offline math, named questions, written answers, model answers.

Fast tests check each piece on the master notebooks; the slow ones grade a
sample submission with nbgrader and read the HTML it gets. What a browser
shows of it, with the network blocked, is checked in
tests/browser/test_feedback_offline.py.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from autograder.course import ASSIGNMENTS, SAMPLES, assignment_ids, master_notebook, nbgrader_config
from autograder.feedback import FeedbackExporter, inline_markdown, points, tex_to_mathml
from autograder.preprocessors import SUBMIT_CALL, AddModelAnswers, DescribeQuestions, HideScoreEcho
from autograder.preprocessors.feedback import is_written_answer
from autograder.scoring import CaseResult, Outcome

from feedback_course import ASSIGNMENT, STUDENT, feedback_html, graded_course  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from rendering import math_spans  # noqa: E402 - what counts as a formula, as the browser tests count them


def _markdown_cells(assignment: str) -> list[str]:
    nb = nbformat.read(master_notebook(assignment), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("assignment", assignment_ids())
def test_every_formula_of_the_master_notebooks_becomes_mathml(assignment):
    exporter = FeedbackExporter()
    for source in _markdown_cells(assignment):
        html = exporter.markdown2html({}, source)
        assert html.count("<math ") == math_spans(source), source  # as many as JupyterLab typesets
        assert "tex-error" not in html, f"a formula the converter could not read: {source}"
        prose = re.sub(r"<math .*?</math>|<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
        assert "$" not in prose and "\\frac" not in prose and "\\lambda" not in prose, source


def test_a_formula_broken_over_lines_stays_a_formula():
    html = FeedbackExporter().markdown2html({}, "PyTorch writes $w = w - \\eta(\\alpha\n+ \\epsilon)$, where `$x` is code.")
    assert html.count("<math ") == 1 and "<li>" not in html and "<code>$x</code>" in html


def test_mathml_of_hostile_tex_carries_no_html_and_no_link():
    mathml = tex_to_mathml(r"\text{<img/src=x/onerror=alert(1)>} + \href{javascript:alert(2)}{x}", display=False)
    assert mathml.startswith("<math") and "<mi>x</mi>" in mathml
    assert "<img" not in mathml and "onerror" not in mathml and "href" not in mathml and "javascript" not in mathml
    html = FeedbackExporter().markdown2html({}, "A $\\text{<img/src=x/onerror=alert(1)>}$ and $$x<script>y$$")
    assert html.count("<math ") == 2 and "<img" not in html and "<script" not in html


def test_tex_the_converter_cannot_read_is_shown_as_escaped_source():
    html = tex_to_mathml(r"\frac{<b>1}{", display=True)
    assert html == '<code class="tex-error">\\frac{&lt;b&gt;1}{</code>'


def test_math_is_typeset_in_display_and_inline_form_and_aligned_reads_as_align():
    html = FeedbackExporter().markdown2html({}, "Loss $L_i$ is\n\n$$\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}$$")
    assert '<p>Loss <math display="inline"><mrow><msub><mi>L</mi><mi>i</mi></msub></mrow></math> is</p>' in html
    assert 'display="block"' in html and html.count("<mtr>") == 2 and "&amp;" not in html


def test_a_heading_in_the_index_is_inline_html_with_math_and_no_raw_html():
    assert inline_markdown("4. Regularization") == "4. Regularization"
    html = inline_markdown(r"4. Why $\lambda = 0$ wins <img src=x onerror=alert(1)>")
    assert html.startswith("4. Why <math") and "<img" not in html and "&lt;img" in html


def test_points_read_as_the_gradebook_means_them():
    assert [points(v) for v in (2.0, 2.5, 17.139999, None, 31)] == ["2", "2.5", "17.14", "0", "31"]


def test_failed_case_names_with_commas_are_listed_one_per_line():
    names = ["random scores, N=8, C=10", "two classes (C=2), N=6", "a single example (N=1), C=5"]
    outcome = Outcome("svm_loss", 3.0, 0.0, [CaseResult(n, False, "raised NotImplementedError") for n in names])
    lines = outcome.feedback().splitlines()
    assert lines[1] == "  FAILED 3 cases, all the same way: raised NotImplementedError"
    assert lines[2:] == [f"    - {n}" for n in names]


def _scored_master(assignment: str) -> NotebookNode:
    """The master notebook with its hidden-test cells marked as ScoreHiddenTests marks them."""
    nb = nbformat.read(master_notebook(assignment), as_version=4)
    for cell in nb.cells:
        call = SUBMIT_CALL.search(cell.source) if cell.cell_type == "code" else None
        if call:
            cell.metadata["optimlab"] = {"check": call.group(2)}
    return nb


def test_the_index_names_every_question_with_its_section():
    nb, _ = DescribeQuestions().preprocess(_scored_master("01_losses"), {})
    named = [(c.metadata.optimlab_feedback.title, c.metadata.optimlab_feedback.kind,
              c.metadata.optimlab_feedback.section) for c in nb.cells if "optimlab_feedback" in c.metadata]
    svm, softmax, compare = ("1. The multiclass SVM loss", "2. The softmax (cross-entropy) loss",
                             "3. SVM vs softmax: what each loss cares about")
    ridge = "5. Ridge regression: regularization you can solve in closed form"
    assert named == [
        ("svm_loss_naive", "hidden tests", svm), ("svm_loss", "hidden tests", svm),
        ("softmax_loss_naive", "hidden tests", softmax), ("softmax_loss", "hidden tests", softmax),
        ("Question 1", "written answer", compare), ("Question 2", "written answer", compare),
        ("loss_facts", "hidden tests", compare),
        ("l2_reg", "hidden tests", "4. Regularization"), ("l1_reg", "hidden tests", "4. Regularization"),
        ("elastic_net_reg", "hidden tests", "4. Regularization"),
        ("ridge_fit", "hidden tests", ridge), ("Question 3", "written answer", ridge)]


@pytest.mark.parametrize("assignment", assignment_ids())
def test_model_answers_are_added_only_when_enabled(assignment):
    resources = {"nbgrader": {"assignment": assignment}}
    student = nbformat.read(ASSIGNMENTS / assignment / master_notebook(assignment).name, as_version=4)
    written = [c for c in student.cells if is_written_answer(c)]
    assert len(written) == 3

    nb, _ = AddModelAnswers().preprocess(nbformat.from_dict(student), resources)
    assert not any("optimlab_feedback" in c.metadata for c in nb.cells)

    nb, _ = AddModelAnswers(enabled=True).preprocess(nbformat.from_dict(student), resources)
    masters = {c.metadata.nbgrader.grade_id: c.source
               for c in nbformat.read(master_notebook(assignment), as_version=4).cells if is_written_answer(c)}
    shown = {c.metadata.nbgrader.grade_id: c.metadata.optimlab_feedback.model_answer
             for c in nb.cells if "optimlab_feedback" in c.metadata}
    assert shown.keys() == masters.keys()
    for grade_id, answer in shown.items():
        assert len(answer) > 80 and answer in masters[grade_id]  # the model answer, without the prompt
        assert "SOLUTION" not in answer and "YOUR ANSWER HERE" not in answer and "Your answer to" not in answer


def test_the_score_echo_and_the_zero_marker_of_hidden_tests_are_hidden():
    stream = NotebookNode(output_type="stream", name="stdout", text="svm_loss: 6 of 6 hidden test cases passed\n")
    echo = NotebookNode(output_type="execute_result", data={"text/plain": "3"}, metadata={}, execution_count=7)
    zero = NotebookNode(output_type="error", ename="HiddenTestsFailed", evalue="svm_loss: no case passed",
                        traceback=[])
    not_run = NotebookNode(output_type="error", ename="HiddenTestsNotRun", evalue="svm_loss: could not run",
                           traceback=[])
    hidden = NotebookNode(cell_type="code", source="", metadata={"optimlab": {"check": "svm_loss"}},
                          outputs=[stream, echo, zero, not_run], execution_count=7)
    other = NotebookNode(cell_type="code", source="1 + 2", metadata={}, outputs=[echo], execution_count=8)
    cell, _ = HideScoreEcho().preprocess_cell(hidden, {}, 0)
    assert cell.outputs == [stream, not_run]
    cell, _ = HideScoreEcho().preprocess_cell(other, {}, 1)
    assert cell.outputs == [echo]  # a student's own result stays


# --- the feedback of a graded sample (nbgrader, kernels) ------------------------------------

@pytest.mark.slow
def test_graded_feedback_is_self_contained_and_says_what_awaits_a_grader():
    html = feedback_html(graded_course()).read_text()
    assert "<script" not in html and "<link" not in html and "<iframe" not in html
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//""", html), "the page loads something"
    assert html.count("<math ") > 60
    # the index names every question; nbgrader's said "Test cell" and "Written response"
    assert "Written response" not in html and "Test cell" not in html
    assert re.search(r'<a href="#test_softmax_loss">softmax_loss</a>\s*<span class="kind">hidden tests</span>', html)
    assert re.search(r'<a href="#answer_compare">Question 2</a>\s*<span class="kind">written answer</span>', html)
    # written answers await a grader, in the summary, the index and the answer's panel
    assert "6 of these points are for written answers that await a grader" in html
    assert html.count('<span class="awaiting">awaiting a grader (2 points)</span>') == 2 * 3
    for written in ("Question 1", "Question 2", "Question 3"):
        assert f"{written}: your written answer" in html
    assert "Model answer" not in html, "a class's feedback never shows the model answers"
    assert "<th>image</th>" in html and "<td><strong>3.2</strong></td>" in html  # the lecture's table
    # hidden tests: the score labelled in the heading, failed cases listed, no bare echo under the cell
    assert "Hidden tests of <code>softmax_loss</code>" in html and "Score: 0 / 4" in html
    assert "FAILED 6 cases, all the same way: raised NotImplementedError" in html
    assert "HiddenTestsFailed" not in html
    panels = re.findall(r'Hidden tests of <code>\w+</code>.*?(?=<div class="cell)', html, re.S)
    assert len(panels) == 9 and not any("Out[" in panel for panel in panels)


@pytest.mark.slow
def test_a_self_learner_sees_model_answers_and_a_graded_answer_shows_its_grade(tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    course = Path(shutil.copytree(graded_course(), tmp_path / "course"))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="optimlab") as gb:  # as the formgrader does
        grade = gb.find_grade("answer_compare", "losses", ASSIGNMENT, STUDENT)
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.db.commit()
    api = NbGraderAPI(config=nbgrader_config(course, model_answers=True))
    assert api.generate_feedback(ASSIGNMENT, STUDENT, force=True)["success"]
    html = feedback_html(course).read_text()
    assert html.count("<h4>Model answer</h4>") == 3 and html.count("<h4>Your answer</h4>") == 3
    master = next(c.source for c in nbformat.read(master_notebook(ASSIGNMENT), as_version=4).cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_regularizers")
    assert "With 201 weights and 20 examples" in master
    assert re.search(r"<h4>Model answer</h4>\s*<p>With 201 weights", html)
    assert "4 of these points are for written answers that await a grader" in html
    assert re.search(r'<a href="#answer_compare">Question 2</a>.*?<span class="score">Score: 1.5 / 2</span>', html, re.S)
    assert html.count('<span class="awaiting">awaiting a grader (2 points)</span>') == 2 * 2


def test_model_answers_go_to_a_notebook_graded_on_its_own_never_to_a_class(tmp_path, monkeypatch):
    """optimlab-grade grade ONE.ipynb (a self-learner) shows them; a folder (a class) does not."""
    from autograder import cli

    seen = []
    monkeypatch.setattr(cli, "grade_all", lambda subs, course_dir, **kw: seen.append(kw["model_answers"]) or [])
    monkeypatch.setattr(cli, "gradebook_results", lambda course_dir: [])
    monkeypatch.setattr(cli, "_write_class_reports", lambda results, course_dir: None)
    sample = SAMPLES / "01_losses" / "half_done.ipynb"
    own, folder = tmp_path / "losses.ipynb", tmp_path / "class"
    folder.mkdir()
    shutil.copy(sample, own)
    shutil.copy(sample, folder / "ann.ipynb")
    for argv in ([own], [folder], [folder, "--model-answers"], [own, "--no-model-answers"]):
        assert cli.main(["grade", *map(str, argv), "--course-dir", str(tmp_path / "grades")]) == 0
    assert seen == [True, False, True, False]


def test_a_job_that_asks_for_model_answers_configures_the_feedback_with_them(tmp_path):
    from autograder.core import nbgrader_api

    assert nbgrader_api(tmp_path, model_answers=True).config.AddModelAnswers.enabled is True
    assert nbgrader_api(tmp_path).config.AddModelAnswers.enabled is False
