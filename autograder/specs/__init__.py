"""Hidden-test specifications, one module per assignment.

Each module defines `CHECKS`, a list of `autograder.spec.Check`: the seeded
cases, how to run them and the known mistakes of every gradable function of
that assignment; and `SAMPLES`, the buggy sample submissions built from those
mistakes (`autograder.samples`). The reference answers are not here: they
come from the master notebook (`autograder.reference`).
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from autograder.spec import Check


def module_name(assignment: str) -> str:
    """The spec module of an assignment: `01_losses` -> `autograder.specs.losses`."""
    return f"autograder.specs.{assignment.split('_', 1)[-1]}"


def load_module(assignment: str):
    """The spec module of `assignment` (its CHECKS and SAMPLES)."""
    try:
        return importlib.import_module(module_name(assignment))
    except ModuleNotFoundError as err:
        if err.name != module_name(assignment):
            raise
        raise KeyError(f"No hidden tests are defined for assignment {assignment!r} "
                       f"(expected in {module_name(assignment).replace('.', '/')}.py).") from None


@lru_cache(maxsize=None)
def load_spec(assignment: str) -> dict[str, Check]:
    """The checks of `assignment`, by name."""
    return {check.name: check for check in load_module(assignment).CHECKS}
