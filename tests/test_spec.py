"""Values crossing the kernel boundary, and how results are compared."""
import math

import numpy as np
import pytest

from autograder import spec as S


@pytest.mark.parametrize("value", [
    1.5, 3, True, None, "B", float("inf"), -float("inf"),
    np.arange(6.0).reshape(2, 3), np.array([1, 2], dtype=np.int32),
    (2.0, np.ones((2, 2))), [1, (2.0, 3)], {"a": 1.0, "b": np.zeros(3)},
])
def test_encode_decode_round_trip(value):
    back = S.decode(S.encode(value))
    err, why = S.compare(value, back, 0.0)
    assert why is None and err == 0.0


def test_nan_survives_the_round_trip_and_equals_itself():
    back = S.decode(S.encode(np.array([1.0, np.nan])))
    assert np.isnan(back[1])
    assert S.rel_error(back, np.array([1.0, np.nan])) == 0.0


def test_encoded_values_are_strict_json():
    import json
    json.dumps(S.encode((np.array([np.nan, np.inf]), float("-inf"))), allow_nan=False)


def test_rel_error_matches_the_course_formula():
    a, b = np.array([1.0, 2.0]), np.array([1.1, 2.0])
    assert S.rel_error(a, b) == pytest.approx(0.1 / 2.1)
    assert S.rel_error(np.zeros(2), np.full(2, 1e-12)) == pytest.approx(1e-4)


@pytest.mark.parametrize("expected,got,words", [
    ((1.0, np.ones(2)), 1.0, "expected a tuple of 2 values"),
    (np.ones((2, 3)), np.ones((3, 2)), "expected shape (2, 3)"),
    (1.0, np.ones(3), "expected a single number"),
    ({"w": 1.0}, {}, "no entry 'w'"),
])
def test_structure_mismatches_are_described(expected, got, words):
    err, why = S.compare(expected, got, 1e-7)
    assert math.isinf(err) and words in why


def test_case_generators_are_deterministic_and_distinct():
    a = S.case_rng("01_losses", "svm_loss", "x").standard_normal(3)
    b = S.case_rng("01_losses", "svm_loss", "x").standard_normal(3)
    c = S.case_rng("01_losses", "svm_loss", "y").standard_normal(3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
