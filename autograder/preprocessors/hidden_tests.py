"""Hidden-test cells: scored outside the kernel, and hidden from the feedback."""
from __future__ import annotations

import re

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

from autograder.harness import RESULTS_MIME
from autograder.scoring import score_results

FAILED = "HiddenTestsFailed"  # the error that gives a hidden-test cell no points

# The one statement of a hidden test cell: submit("<assignment>", "<check>", obj)
SUBMIT_CALL = re.compile(r"""\bsubmit\(\s*["']([\w.-]+)["']\s*,\s*["'](\w+)["']""")


def _stream(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text + "\n")


def _score_output(score: float) -> NotebookNode:
    """The numeric last expression that nbgrader reads as partial credit."""
    return NotebookNode(output_type="execute_result", execution_count=None,
                        metadata={}, data={"text/plain": f"{score:g}"})


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def _published_results(cell: NotebookNode, check: str) -> dict | None:
    """The last results payload the harness published for `check` in this cell."""
    found = None
    for output in cell.get("outputs", []):
        payload = output.get("data", {}).get(RESULTS_MIME)
        if isinstance(payload, dict) and payload.get("check") == check:
            found = payload
    return found


def _kernel_error(cell: NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return None


class ScoreHiddenTests(NbGraderPreprocessor):
    """Scores hidden-test cells from the results their kernel published."""

    def preprocess(self, nb, resources):
        self.assignment = resources["nbgrader"]["assignment"]
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if not (utils.is_grade(cell) and cell.cell_type == "code"):
            return cell, resources
        call = SUBMIT_CALL.search(cell.source)
        if call is None:
            return cell, resources
        check = call.group(2)
        points = float(cell.metadata["nbgrader"]["points"])
        results = _published_results(cell, check)
        outcome = score_results(self.assignment, check, results, points)
        if results is None:
            error = _kernel_error(cell) or "the cell produced no results"
            text = (f"{check}: the hidden tests could not run ({error}). "
                    f"Make sure {check} is defined and runs without errors.")
            cell.outputs = [_error_output("HiddenTestsNotRun", text)]
        elif outcome.score == 0:
            cell.outputs = [_stream(outcome.feedback()),
                            _error_output(FAILED, f"{check}: no case passed")]
        else:
            cell.outputs = [_stream(outcome.feedback()), _score_output(outcome.score)]
        cell.metadata["optimlab"] = {
            "check": check,
            "score": outcome.score,
            "points": points,
            "passed": outcome.passed,
            "cases": len(outcome.cases),
            "diagnoses": outcome.diagnoses,
        }
        return cell, resources


class HideHiddenTests(ClearHiddenTests):
    """Removes hidden-test regions from graded notebooks before feedback is rendered."""

    enforce_metadata = Bool(False).tag(config=True)


class HideScoreEcho(NbGraderPreprocessor):
    """Drops the outputs of a scored hidden-test cell that only nbgrader needs.

    The bare number under the cell (`Out[7]: 3`, the partial credit nbgrader's
    SaveAutoGrades reads) and the `HiddenTestsFailed` error that gives a zero
    stay in the autograded notebook; in the feedback they would read as a
    stray result and a crash. The score is shown, labelled, in the cell's
    heading, and the text above them says what passed and what failed.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and "optimlab" in cell.metadata:
            cell.outputs = [o for o in cell.outputs
                            if o.get("output_type") != "execute_result" and o.get("ename") != FAILED]
        return cell, resources
