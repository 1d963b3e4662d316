"""Bounded outputs, and the grading notes a student reads first."""
from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

NOTES_ID = "optimlab-grading-notes"


class LimitOutputSize(NbGraderPreprocessor):
    """Caps the text of every output and drops oversized rich outputs.

    nbgrader's LimitOutput caps the number of lines of a stream; a single line
    can still be gigabytes, and so can an image.
    """

    max_text = Integer(20_000, help="Characters kept of a stream or text output.").tag(config=True)
    max_data = Integer(2_000_000, help="Bytes a rich output (image, HTML) may weigh.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        kept = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and len(output.get("text", "")) > self.max_text:
                output.text = output.text[:self.max_text] + f"\n... output truncated at {self.max_text} characters\n"
            data = output.get("data", {})
            if sum(len(str(v)) for v in data.values()) > self.max_data:
                output = NotebookNode(output_type="stream", name="stdout",
                                      text=f"[an output of more than {self.max_data} bytes was removed]\n")
            kept.append(output)
        cell.outputs = kept
        return cell, resources


class AddGradingNotes(NbGraderPreprocessor):
    """Adds a first markdown cell listing the limits the submission hit, if any.

    The list (`resources["optimlab_limits"]`, from `Execute`) starts with the
    protections this system could not put in force ("graded without a memory
    limit: not supported on this system"), then the limits the kernel hit.
    """

    def preprocess(self, nb, resources):
        limits = resources.get("optimlab_limits", [])
        nb.cells = [c for c in nb.cells if c.get("id") != NOTES_ID]
        nb.metadata.setdefault("optimlab", {})["limits"] = list(limits)
        if limits:
            lines = "\n".join(f"- {sentence[0].upper()}{sentence[1:]}." for sentence in limits)
            nb.cells.insert(0, NotebookNode(cell_type="markdown", id=NOTES_ID, metadata={},
                                            source=f"**Grading notes.** While grading this notebook:\n\n{lines}"))
        return nb, resources
