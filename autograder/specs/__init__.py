"""Hidden-test specifications, one module per assignment.

Each module defines `CHECKS`, a list of `autograder.spec.Check`: the seeded
cases, how to run them and the known mistakes of every gradable function of
that assignment; and `SAMPLES`, the buggy sample submissions built from those
mistakes (`autograder.samples`). The reference answers are not here: they come from the
master notebook (`autograder.reference`).
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from autograder.spec import Check

# assignment id (folder under solutions/) -> spec module
SPEC_MODULES = {
    "01_losses": "autograder.specs.losses",
}


def load_module(assignment: str):
    """The spec module of `assignment` (its CHECKS and SAMPLES)."""
    if assignment not in SPEC_MODULES:
        known = ", ".join(sorted(SPEC_MODULES))
        raise KeyError(f"No hidden tests are defined for assignment {assignment!r} (known: {known}).")
    return importlib.import_module(SPEC_MODULES[assignment])


@lru_cache(maxsize=None)
def load_spec(assignment: str) -> dict[str, Check]:
    """The checks of `assignment`, by name."""
    return {check.name: check for check in load_module(assignment).CHECKS}
