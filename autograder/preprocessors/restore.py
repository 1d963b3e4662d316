"""Rebuilding a submission on the master notebook, whatever the student did to its cells."""
from __future__ import annotations

import copy

import nbformat
from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from autograder.course import master_notebook


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_answer(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


class RestoreNotebook(NbGraderPreprocessor):
    """Rebuilds the submission from the master notebook's cells, in the master's order.

    From the student it takes only (1) the source of each answer cell, matched
    by grade id (the first one if duplicated; an answer cell whose grade id was
    changed counts for the missing one it stands in place of), and (2) cells
    the student added, kept after the cell they followed, stripped of any
    nbgrader metadata. Every other cell, its type, points, ids and the kernelspec come
    from the master notebook; an answer cell the student deleted comes back as
    the released stub. So deleted, edited, duplicated or reordered test cells,
    changed points, grade ids, cell types and kernelspecs all grade as the
    original. (nbgrader's OverwriteCells then restores the hidden-test sources
    and checksums from the gradebook, as usual.)
    """

    def preprocess(self, nb, resources):
        master = nbformat.read(master_notebook(resources["nbgrader"]["assignment"]), as_version=4)
        # The released view of the master: the answers replaced by their stubs.
        released, _ = ClearSolutions(parent=self).preprocess(copy.deepcopy(master), {})
        # (without None: a cell with neither a grade id nor a known id is one the student added)
        known_ids = ({c.get("id") for c in released.cells} | {_grade_id(c) for c in released.cells}) - {None}

        answers: dict[str, str] = {}
        added_after: dict[str | None, list] = {}
        anchor = None  # the last cell of the student's notebook that the master also has
        for cell in nb.cells:
            grade_id = _grade_id(cell)
            if grade_id in known_ids or (grade_id is None and cell.get("id") in known_ids):
                if grade_id is not None:
                    answers.setdefault(grade_id, cell.source)
                anchor = grade_id or cell.get("id")
            else:
                added_after.setdefault(anchor, []).append(cell)

        order = [(_grade_id(cell) or cell.get("id"), cell) for cell in released.cells]
        previous = None
        for key, cell in order:
            if _is_answer(cell) and key not in answers:  # perhaps there under another grade id
                renamed = [c for c in added_after.get(previous, []) if _is_answer(c)][:1]
                if renamed:
                    answers[key] = renamed[0].source
                    added_after[previous].remove(renamed[0])
            previous = key

        cells = self._added(added_after.get(None, []))
        for key, cell in order:
            if _is_answer(cell) and key in answers:
                cell.source = answers[key]
            cells.append(cell)
            cells += self._added(added_after.get(key, []))
        nb.cells = cells
        nb.metadata = copy.deepcopy(master.metadata)
        return nb, resources

    @staticmethod
    def _added(cells: list) -> list:
        """Cells the student added, as plain cells (no nbgrader metadata)."""
        plain = []
        for cell in cells:
            cell = nbformat.from_dict(copy.deepcopy(dict(cell)))
            cell.metadata.pop("nbgrader", None)
            plain.append(cell)
        return plain
