"""The reference solution, taken from the master notebook.

A reference exists once: in the solution cells of `solutions/<assignment>/`.
`load_reference` executes the definitions of the master notebook (imports,
functions, classes and literal assignments of every code cell that is not a
test cell) into a fresh module, so the grader and the tests call the very
code the instructor wrote, never a hand-kept copy.
"""
from __future__ import annotations

import ast
import types
from functools import lru_cache
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from autograder.course import master_notebook

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def _is_test_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


# What an answer value may be built from: literals, arithmetic, float("inf"), np.pi.
_CONSTANT_NODES = (ast.Constant, ast.Dict, ast.List, ast.Tuple, ast.Set, ast.UnaryOp, ast.BinOp,
                   ast.unaryop, ast.operator, ast.Load, ast.Call, ast.Name, ast.Attribute)
_CONSTANT_NAMES = {"float", "int", "np", "math", "numpy"}


def _is_constant_assignment(node: ast.stmt) -> bool:
    """`NAME = <constant expression>`: how autograded answers are written."""
    if not (isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets)):
        return False
    for sub in ast.walk(node.value):
        if not isinstance(sub, _CONSTANT_NODES):
            return False
        if isinstance(sub, ast.Name) and sub.id not in _CONSTANT_NAMES:
            return False
        if isinstance(sub, ast.Call) and not (isinstance(sub.func, ast.Name) and sub.func.id in ("float", "int")):
            return False
    return True


def definitions_source(nb: nbformat.NotebookNode) -> str:
    """The definitions of a notebook's non-test code cells, as one module's source."""
    transform = TransformerManager().transform_cell  # turns %magics into Python
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or _is_test_cell(cell):
            continue
        tree = ast.parse(transform(cell.source))
        keep = [n for n in tree.body if isinstance(n, _DEFINITIONS) or _is_constant_assignment(n)]
        if keep:
            parts.append(ast.unparse(ast.Module(body=keep, type_ignores=[])))
    return "\n\n".join(parts) + "\n"


def module_from_notebook(path: Path, name: str) -> types.ModuleType:
    """Executes the definitions of the notebook at `path` into a new module."""
    nb = nbformat.read(path, as_version=4)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    code = compile(definitions_source(nb), f"<{path.name}>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - the instructor's own master notebook
    return module


@lru_cache(maxsize=None)
def load_reference(assignment: str) -> types.ModuleType:
    """The reference implementation of `assignment`, from its master notebook."""
    return module_from_notebook(master_notebook(assignment), f"reference_{assignment}")
