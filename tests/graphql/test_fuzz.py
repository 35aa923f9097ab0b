"""Property-based fuzz: generated documents and variables never cause a 5xx or an internal error.

Documents are built from the live schema (random root fields, arguments of the right
and of wrong types, boundary integers, random JSON, nested selections) plus raw
garbage text; variables are random JSON objects. Admin keys are used only for the
experiment mutations, so the fuzz cannot move the champion under other tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gbrec_graphql.schema import build_schema

from .conftest import Api

SCHEMA: GraphQLSchema = build_schema(__import__("gbrec_core.settings").settings.Settings())._schema
SAFE_ADMIN = {"createExperiment", "advanceExperiment", "stopExperiment"}
INTS = st.one_of(
    st.integers(-5, 200), st.sampled_from([-(2**31), 2**31 - 1, 2**31, -(2**63), 10**20, 1_000_000])
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def literal(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


@st.composite
def value_for(draw: st.DrawFn, gtype: Any, depth: int = 0) -> str:
    if draw(st.integers(0, 19)) == 0:  # sometimes a wrong-typed value
        return literal(draw(JSON_VALUES))
    if isinstance(gtype, GraphQLNonNull):
        return draw(value_for(gtype.of_type, depth))
    if isinstance(gtype, GraphQLList):
        items = draw(st.lists(value_for(gtype.of_type, depth + 1), max_size=3))
        return "[" + ", ".join(items) + "]"
    if isinstance(gtype, GraphQLEnumType):
        return draw(st.sampled_from([*gtype.values, "BOGUS"]))
    if isinstance(gtype, GraphQLInputObjectType):
        names = draw(st.lists(st.sampled_from(sorted(gtype.fields)), unique=True))
        required = [n for n, f in gtype.fields.items() if isinstance(f.type, GraphQLNonNull)]
        chosen = sorted(set(names) | set(required if draw(st.booleans()) else []))
        parts = [f"{n}: {draw(value_for(gtype.fields[n].type, depth + 1))}" for n in chosen]
        return "{" + ", ".join(parts) + "}"
    assert isinstance(gtype, GraphQLScalarType)
    name = gtype.name
    if name == "Int":
        return str(draw(INTS))
    if name == "Float":
        return json.dumps(draw(st.floats(-1e6, 1e6, allow_nan=False)))
    if name == "Boolean":
        return draw(st.sampled_from(["true", "false"]))
    if name == "DateTime":
        return json.dumps(
            draw(st.sampled_from(["2024-01-01T00:00:00Z", "yesterday", "2024-13-45"]))
        )
    if name == "JSON":
        return literal(draw(JSON_VALUES))
    return json.dumps(draw(st.text(max_size=12)))


@st.composite
def selection(draw: st.DrawFn, gtype: Any, depth: int) -> str:
    while isinstance(gtype, GraphQLNonNull | GraphQLList):
        gtype = gtype.of_type
    if not isinstance(gtype, GraphQLObjectType):
        return ""
    names = draw(
        st.lists(st.sampled_from(sorted(gtype.fields)), min_size=1, max_size=4, unique=True)
    )
    parts = []
    for name in names:
        field = gtype.fields[name]
        args = [
            f"{a}: {draw(value_for(arg.type))}"
            for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) or draw(st.booleans())
        ]
        head = name + (f"({', '.join(args)})" if args else "")
        inner = draw(selection(field.type, depth + 1)) if depth < 5 else ""
        parts.append(head + (f" {{ {inner} }}" if inner else ""))
    return " ".join(parts)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, set[str]]:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=60)), set()
    root = SCHEMA.mutation_type if draw(st.integers(0, 3)) == 0 else SCHEMA.query_type
    assert root is not None
    fields = draw(
        st.lists(st.sampled_from(sorted(root.fields)), min_size=1, max_size=2, unique=True)
    )
    body = draw(selection(GraphQLObjectType(root.name, {f: root.fields[f] for f in fields}), 0))
    keyword = "mutation" if root is SCHEMA.mutation_type else "query"
    return f"{keyword} {{ {body} }}", set(fields)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@settings(
    max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(
    doc=documents(),
    variables=st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3),
    key=st.sampled_from([None, "read", "events", "admin"]),
)
def test_fuzzed_requests_never_fail_internally(
    api: Api, doc: tuple[str, set[str]], variables: dict[str, Any], key: str | None
) -> None:
    query, roots = doc
    if key == "admin" and not roots <= SAFE_ADMIN:
        key = "events"
    headers = {"X-API-Key": api.keys[key]} if key else {}
    response = api.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code < 500, (query, response.text)
    if response.status_code == 200:
        for error in response.json().get("errors") or []:
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (query, variables, error)
