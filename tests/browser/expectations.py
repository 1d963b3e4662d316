"""Which cells of a student notebook must fail, read from the notebook itself.

A student notebook fails exactly where work is due. Its answer cells (nbgrader
`solution` cells) still `raise NotImplementedError()`: defining such a function
works, and a statement that uses one fails, as does every statement that uses a
function built on top of it or a name that a failed cell never got to define.
An answer cell that raises at its top level (a dictionary of facts to fill)
fails itself. Every other cell must run clean.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

MAGIC = re.compile(r"^\s*[%!].*$", re.M)


def _parse(source: str) -> ast.Module:
    return ast.parse(MAGIC.sub("pass", source))


def _raises_not_implemented(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Raise) and sub.exc is not None:
            exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _loads(node: ast.AST) -> set[str]:
    """Names a statement reads that it does not bind itself (loop targets, arguments,
    local variables of a function or lambda, comprehension variables)."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    return loads - bound


def _stores(node: ast.AST) -> set[str]:
    """Names a statement binds in the notebook's namespace."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _uses(node: ast.AST, broken: dict[str, set[str]]) -> set[str]:
    return set().union(*(broken[n] for n in _loads(node) if n in broken))


def _needs(stmt: ast.stmt, broken: dict[str, set[str]]) -> set[str]:
    """The unfinished work running `stmt` depends on. Of an `if`, what its condition needs,
    and what its branches need only if every branch needs something: which one runs is
    decided at run time (the GPU cell runs one branch with a GPU, the other without)."""
    if isinstance(stmt, ast.If):
        branches = [set().union(*(_needs(s, broken) for s in body)) for body in (stmt.body, stmt.orelse)]
        return _uses(stmt.test, broken) | (set().union(*branches) if all(branches) else set())
    return _uses(stmt, broken)


def is_student_work(cell) -> bool:
    """An answer cell the student must fill (nbgrader `solution` cell still raising)."""
    return (cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution", False)
            and "raise NotImplementedError()" in cell.source)


def expected_failures(path: Path) -> dict[int, set[str]]:
    """Index of each code cell that must fail when the notebook runs top to bottom,
    with the unfinished functions it depends on."""
    nb = nbformat.read(path, as_version=4)
    broken: dict[str, set[str]] = {}   # name -> the unfinished functions it needs
    failing: dict[int, set[str]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        work = is_student_work(cell)
        failed_on: set[str] | None = None
        for stmt in _parse(cell.source).body:
            if failed_on is not None:   # the rest of a failed cell never runs
                for name in _stores(stmt):
                    broken.setdefault(name, set()).update(failed_on)
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                needs = _uses(stmt, broken)
                if work and _raises_not_implemented(stmt):
                    needs.add(stmt.name)
                if needs:
                    broken[stmt.name] = needs
                else:
                    broken.pop(stmt.name, None)
                continue
            needs = _needs(stmt, broken)
            if work and _raises_not_implemented(stmt):
                needs.add(f"cell {index}")
            if needs:
                failed_on = needs
                for name in _stores(stmt):
                    broken.setdefault(name, set()).update(needs)
            else:
                for name in _stores(stmt):
                    broken.pop(name, None)
        if failed_on is not None:
            failing[index] = failed_on
    return failing


def unfinished_functions(path: Path) -> set[str]:
    """The functions a student must write: those whose answer cell still raises."""
    nb = nbformat.read(path, as_version=4)
    names = set()
    for cell in nb.cells:
        if is_student_work(cell):
            for stmt in _parse(cell.source).body:
                if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)) and _raises_not_implemented(stmt):
                    names.add(stmt.name)
    return names
