"""The compiled variable coercion agrees with graphql-core's, or defers to it."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from graphql import OperationDefinitionNode, build_schema, parse
from graphql.execution.values import get_variable_values

from gbrec_graphql.compiled.inputs import VariablePlan

SCHEMA = build_schema("type Query { f(a: Int): Int }")
DEFINITIONS = [
    "$v: Int!",
    "$v: Int",
    "$v: Int = 3",
    "$v: Float!",
    "$v: Float = 1.5",
    "$v: String",
    "$v: Boolean!",
    "$v: ID",
    "$v: [Int]",
]
MISSING = object()
VALUES: list[Any] = [
    MISSING, None, 0, 7, -(2**31), 2**31, 2**40, 1.5, 2.0, math.inf, math.nan,
    "7", "x", "", True, False, [1], {"a": 1},
]  # fmt: skip


def _definitions(text: str) -> Any:
    operation = parse(f"query Q({text}) {{ f }}").definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.variable_definitions


@pytest.mark.parametrize(("definition", "value"), itertools.product(DEFINITIONS, VALUES))
def test_fast_coercion_matches_graphql_core(definition: str, value: Any) -> None:
    definitions = _definitions(definition)
    raw = {} if value is MISSING else {"v": value}
    reference = get_variable_values(SCHEMA, definitions, raw)
    fast = VariablePlan.build(SCHEMA, definitions).coerce(raw)
    if fast is None:  # deferred: graphql-core decides (and reports errors)
        return
    assert not isinstance(reference, list), reference
    assert fast == reference
    assert [type(v) for v in fast.values()] == [type(v) for v in reference.values()]


def test_common_cases_are_not_deferred() -> None:
    plan = VariablePlan.build(SCHEMA, _definitions("$u: Int!, $n: Int = 5, $s: String"))
    assert plan.coerce({"u": 7}) == {"u": 7, "n": 5}
    assert plan.coerce({"u": 7, "n": 2, "s": None}) == {"u": 7, "n": 2, "s": None}
    assert plan.coerce({"u": "7"}) is None and plan.coerce({}) is None
