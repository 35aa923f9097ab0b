"""Targeting that cannot stall a worker: RE2 regexes and bounded attributes."""

from __future__ import annotations

import time

import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments.conditions import eval_condition
from gbrec_core.experiments.patterns import MAX_ATTRIBUTES, check_attributes, check_patterns


def test_catastrophic_pattern_runs_in_linear_time() -> None:
    hostile = "a" * 100_000 + "!"
    started = time.perf_counter()
    assert not eval_condition({"name": hostile}, {"name": {"$regex": "^(a+)+$"}})
    assert time.perf_counter() - started < 0.5  # Python's re would take ages


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        ({"email": {"$regex": "@example\\.com$"}}, {"email": "a@example.com"}, True),
        ({"email": {"$regexi": "@EXAMPLE\\.com$"}}, {"email": "a@example.com"}, True),
        ({"email": {"$regex": "@EXAMPLE\\.com$"}}, {"email": "a@example.com"}, False),
        ({"email": {"$notRegex": "^admin"}}, {"email": "admin@x"}, False),
        ({"email": {"$regex": "x"}}, {"email": 5}, False),
    ],
)
def test_regex_semantics(condition: dict, attributes: dict, expected: bool) -> None:
    assert eval_condition(attributes, condition) is expected


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)b", "(?<!a)b", "x" * 2000])
def test_unsupported_patterns_are_refused_at_creation(pattern: str) -> None:
    with pytest.raises(InvalidInputError, match="regex"):
        check_patterns({"$or": [{"country": "NL"}, {"email": {"$regex": pattern}}]})


def test_supported_targeting_passes() -> None:
    check_patterns({"$and": [{"email": {"$regexi": "@example\\.com$"}}, {"age": {"$gt": 18}}]})


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({f"a{i}": 1 for i in range(MAX_ATTRIBUTES + 1)}, "at most 50 attributes"),
        ({"name": "x" * 1025}, "attributes.name: longer than 1024"),
        ({"tags": list(range(101))}, "attributes.tags: more than 100 items"),
        ({"deep": {"a": {"b": {"c": {"d": 1}}}}}, "nested deeper"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_attributes_are_bounded(attributes: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_attributes(attributes)


def test_reasonable_attributes_pass() -> None:
    check_attributes({"country": "NL", "tags": ["a", "b"], "profile": {"age": 30}})
