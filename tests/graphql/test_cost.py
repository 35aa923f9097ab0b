"""The query cost rule: costly documents refused before execution, real ones pass."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from gbrec_core.settings import Settings
from gbrec_graphql.cost import cost_rule
from gbrec_graphql.schema import build_schema

from .conftest import Api

SCHEMA = build_schema(Settings())._schema


def cost_of(query: str) -> int:
    """The cost the rule computes (by refusing at a limit of 0)."""
    errors = validate(SCHEMA, parse(query), [cost_rule(0)])
    return int(errors[0].extensions["cost"]) if errors else 0


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ servingModel { version } }", 1),
        ("{ recommendations(userId: 1) { items { book { id } } } }", 1 + 10 * 2),
        ("{ recommendations(userId: 1, limit: 100) { items { rank } } }", 1 + 100),
        ("query($n: Int! = 20) { recommendations(userId: 1, limit: $n) { items { rank } } }", 21),
        ("query($n: Int!) { recommendations(userId: 1, limit: $n) { items { rank } } }", 501),
        ("{ experiments { id variants { name } } }", 50 * (1 + 10)),
        ("{ experiments(first: 2) { id } }", 2),
        (
            "{ experimentsConnection(first: 3) { edges { node { id } } nodes { id } "
            "pageInfo { hasNextPage } } }",
            1 + 3 * 2 + 3 + 1,
        ),
        ("{ modelVersionsConnection { nodes { version } } }", 1 + 50),
        ('{ experiment(id: "x") { history(limit: 2000) { computedAt } } }', 1 + 2000),
        (
            "fragment F on Recommendations { items { rank } } "
            "{ recommendations(userId: 1, limit: 5) { ...F } }",
            6,
        ),
    ],
)
def test_cost_model(query: str, cost: int) -> None:
    assert cost_of(query) == cost


def test_thirty_aliased_histories_are_refused_before_execution(api: Api) -> None:
    fields = " ".join(
        f'h{i}: experiment(id: "x") {{ history(limit: 2000) {{ computedAt }} }}' for i in range(30)
    )
    body = api.gql("{ " + fields + " }")
    error = body["errors"][0]
    assert body.get("data") is None and error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] == 30 * 2001 and "exceeds" in error["message"]


def test_costly_hot_query_is_refused_on_the_compiled_path_too(api: Api) -> None:
    recs = " ".join(
        f"r{i}: recommendations(userId: {i}, limit: $n) {{ items {{ book {{ id }} }} }}"
        for i in range(30)
    )
    body = api.gql("query($n: Int!) { " + recs + " }", {"n": 5})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


def test_dashboard_queries_fit_the_default_budget() -> None:
    from pathlib import Path

    import gbrec_graphql

    script = (Path(gbrec_graphql.__file__).parent / "static" / "dashboard.js").read_text()
    queries = [
        part.split("`")[0]
        for part in script.split("= `")[1:]
        if part.lstrip().startswith(("query", "{"))
    ]
    assert queries
    for query in queries:
        assert 0 < cost_of(query) <= Settings().graphql_max_cost, query
