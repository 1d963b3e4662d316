"""The visible self-checks catch the known mistakes where they are made (#19).

One run of `autograder.self_checks` over every master notebook builds the
coverage table: for each known mistake of `autograder/specs/` written as a
wrong function, whether the self-check of the function where it is made
fails ("own"), only a later one ("elsewhere"), or none ("hidden only").
"""
from functools import lru_cache

import pytest

from autograder import self_checks
from autograder.course import assignment_ids
from autograder.reference import load_reference
from autograder.specs import load_spec
from autograder.specs.optimizers import WRITES_IN_PLACE

pytestmark = pytest.mark.slow

UPDATE_RULES = ("sgd", "sgd_momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


@lru_cache(maxsize=None)
def table(assignment: str) -> tuple:
    """The coverage rows of `assignment`, built once for every test of this module."""
    rows = self_checks.coverage(assignment)
    print("\n" + self_checks.format_table(assignment, rows))
    return tuple(rows)


@pytest.mark.parametrize("assignment", assignment_ids())
def test_four_in_five_visible_mistakes_fail_their_own_check(assignment):
    counts = self_checks.summary(list(table(assignment)))
    assert counts["visible-catchable"] >= 10, counts  # the table is not vacuous
    assert counts["caught by their own check"] >= 0.8 * counts["visible-catchable"], counts


def test_an_in_place_update_rule_is_called_an_in_place_write_by_its_own_check():
    rows = [r for r in table("03_optimizers") if r.mistake == WRITES_IN_PLACE]
    assert sorted(r.check for r in rows) == sorted(UPDATE_RULES)
    for row in rows:
        assert row.where == "own", row
        assert row.says.startswith(f"FAIL {row.check} leaves w unchanged") and "in place" in row.says, row


def _functions_with_a_self_check(assignment):
    spec = load_spec(assignment)
    return [name for name in self_checks.checked_functions(assignment) if name in spec and not spec[name].is_value]


@pytest.mark.parametrize("assignment", assignment_ids())
def test_the_harness_tells_a_right_function_from_an_unwritten_one(assignment):
    """The reference passes its self-check; a function still raising NotImplementedError fails it."""
    table(assignment)  # the notebook run is shared with the table

    def not_written(*args, **kwargs):
        raise NotImplementedError()

    names = _functions_with_a_self_check(assignment)
    assert names
    reference = load_reference(assignment)
    for name in names:
        assert self_checks.own_check_says(assignment, name, getattr(reference, name)) is None, name
        assert self_checks.own_check_says(assignment, name, not_written) == "NotImplementedError", name
