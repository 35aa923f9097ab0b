"""The compiled executor answers exactly like Strawberry's standard execution.

Two apps over the same GBREC_HOME, one with ``GBREC_GRAPHQL_COMPILED`` on (the default)
and one with it off, receive the same requests; the JSON bodies must be identical except
for the random ``requestId``. The cases cover what the compiled path runs itself
(variables, literals, defaults, aliases, fragments, ``__typename``, several roots),
what it completes through graphql-core (a field with a resolver, resolver errors) and
what it hands to Strawberry (invalid variables, directives, other root fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gbrec_graphql.app import create_app
from gbrec_graphql.compiled import CompiledQueries

from .conftest import RECOMMEND, Api

FRAGMENTS = """query { a: recommendations(userId: 5) { __typename ...F }
  b: recommendations(userId: 6, limit: 2) { items { score rank } } }
fragment F on Recommendations { fallback modelVersion variant
  items { book { id title authors year averageRating imageUrl } } }"""

CASES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "variables": (RECOMMEND, {"u": 7}),
    "explicit limit": (RECOMMEND, {"u": 7, "n": 12}),
    "literals": ("{ recommendations(userId: 9, limit: 3) { userId items { rank } } }", None),
    "aliases and fragments": (FRAGMENTS, None),
    "unknown user": (RECOMMEND, {"u": 10**6}),
    "tags": (
        "{ recommendations(userId: 5, limit: 2) { items { book { title tags } } } }",
        None,
    ),
    "limit -1": (RECOMMEND, {"u": 7, "n": -1}),
    "limit too big": ("{ recommendations(userId: 7, limit: 1000000) { fallback } }", None),
    "string for an Int": (RECOMMEND, {"u": "seven"}),
    "missing variable": (RECOMMEND, {}),
    "null for a non-null variable": (RECOMMEND, {"u": None}),
    "int overflow": (RECOMMEND, {"u": 2**40}),
    "unknown experiment": (
        '{ recommendations(userId: 7, experimentId: "nope") { experimentId } }',
        None,
    ),
    "attributes object": (
        "query R($a: JSON) { recommendations(userId: 7, limit: 2, attributes: $a) "
        "{ items { rank } } }",
        {"a": {"country": "NL"}},
    ),
    "directives": (
        "query R($s: Boolean!) { recommendations(userId: 7, limit: 2) "
        "{ fallback @skip(if: $s) items { rank } } }",
        {"s": True},
    ),
    "another root field": (
        "{ recommendations(userId: 7, limit: 1) { fallback } book(id: 1) { title } }",
        None,
    ),
    "typename only beside": ("{ __typename recommendations(userId: 3) { fallback } }", None),
    "filters as variables": (
        "query R($u: Int!, $t: [String!], $m: TagsMatch! = ANY, $x: [Int!], $y: Int) {"
        " recommendations(userId: $u, limit: 4, tags: $t, tagsMatch: $m, excludeBookIds: $x,"
        " yearFrom: $y) { items { rank book { id year tags } } pageInfo { hasNextPage } } }",
        {"u": 7, "t": ["fiction", "fantasy"], "m": "ALL", "x": [1, 2, 3], "y": 1950},
    ),
    "filters as literals": (
        '{ recommendations(userId: 8, limit: 3, excludeTags: ["fantasy"], tagsMatch: ALL,'
        " minAverageRating: 3.5, yearTo: 2010) { items { book { id } } } }",
        None,
    ),
    "seed books and paging": (
        "query R($s: [Int!], $o: Int! = 0) { recommendations(userId: 999999, limit: 3,"
        " seedBookIds: $s, offset: $o) { fallback items { rank book { id } }"
        " pageInfo { hasNextPage endCursor } } }",
        {"s": [1, 2, 3], "o": 3},
    ),
    "a bad cursor": ('{ recommendations(userId: 7, after: "bm9wZQ") { fallback } }', None),
    "a page beyond the depth": ("{ recommendations(userId: 7, offset: 95) { fallback } }", None),
    "explanations": (
        "{ recommendations(userId: 7, limit: 3) { items { rank because { id } } } }",
        None,
    ),
}


def _without_request_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<id>" if k == "requestId" else _without_request_ids(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_request_ids(v) for v in value]
    return value


def compiled_queries(client: TestClient) -> CompiledQueries | None:
    for route in client.app.router.routes:  # type: ignore[attr-defined]
        if getattr(route, "path", None) == "/graphql":
            found: CompiledQueries | None = route.app.compiled
            return found
    raise AssertionError("no /graphql route")


@pytest.fixture(scope="module")
def standard(api: Api) -> Iterator[Api]:
    settings = api.settings.model_copy(update={"graphql_compiled": False})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, api.keys, api.seen)


def _ready(api: Api) -> None:
    """Both apps answer from their precomputed tables (same floats on both sides)."""
    server = api.client.app.state.services.server  # type: ignore[attr-defined]
    assert server.precomputed.wait(server.serving_version().version, timeout=60) is not None


@pytest.mark.parametrize("case", sorted(CASES))
def test_compiled_answers_like_the_standard_execution(api: Api, standard: Api, case: str) -> None:
    _ready(api)
    _ready(standard)
    query, variables = CASES[case]
    body = {"query": query, "variables": variables}
    compiled = api.client.post("/graphql", json=body)
    reference = standard.client.post("/graphql", json=body)
    assert compiled.status_code == reference.status_code
    assert compiled.headers["content-type"] == reference.headers["content-type"]
    assert _without_request_ids(compiled.json()) == _without_request_ids(reference.json())


def test_hot_queries_are_compiled_and_others_are_not(api: Api, standard: Api) -> None:
    compiled = compiled_queries(api.client)
    assert compiled is not None and compiled_queries(standard.client) is None
    assert compiled.get(RECOMMEND, None) is not None
    assert compiled.get(FRAGMENTS, None) is not None
    for name in ("directives", "another root field"):
        assert compiled.get(CASES[name][0], None) is None, name
    assert compiled.get("{ recommendations(", None) is None  # a syntax error
    assert compiled.get(RECOMMEND, "NotThere") is None


#: What clients send all day: each must take the compiled path and never fall back.
HOT = (
    "variables",
    "explicit limit",
    "literals",
    "aliases and fragments",
    "unknown user",
    "tags",
    "attributes object",
    "typename only beside",
    "filters as variables",
    "filters as literals",
    "seed books and paging",
)


def test_hot_queries_take_the_compiled_path_without_fallbacks(api: Api) -> None:
    _ready(api)
    metrics = api.client.app.state.services.metrics  # type: ignore[attr-defined]
    fallbacks = metrics.fast_path_fallbacks
    before_fallbacks = fallbacks.total()
    before_compiled = fallbacks.compiled
    for case in HOT:
        query, variables = CASES[case]
        assert "errors" not in api.gql(query, variables), case
    assert fallbacks.compiled - before_compiled == len(HOT)
    assert fallbacks.total() == before_fallbacks


def test_a_value_the_plan_cannot_vouch_for_is_counted(api: Api) -> None:
    """Invalid variables go to graphql-core's coercion: counted as a fallback, by reason."""
    fallbacks = api.client.app.state.services.metrics.fast_path_fallbacks  # type: ignore[attr-defined]
    before = fallbacks.total()
    assert api.gql(*CASES["string for an Int"])["errors"]
    assert fallbacks.total() == before + 1
    text = api.client.get("/metrics").text
    assert (
        'gbrec_graphql_fast_path_fallbacks_total{path="compiled",reason="invalid_variables"}'
        in text
    )


def test_the_root_resolves_once_per_request(api: Api) -> None:
    """Book tags are plain fields of the shared views: one request counted by the server."""
    server = api.client.app.state.services.server  # type: ignore[attr-defined]
    version = server.serving_version().version
    before = server.stats()["requests_by_version"].get(version, 0)
    response = api.gql(CASES["tags"][0])
    assert "errors" not in response
    assert all(i["book"]["tags"] is not None for i in response["data"]["recommendations"]["items"])
    assert server.stats()["requests_by_version"][version] == before + 1


def test_read_keys_are_enforced_on_the_compiled_path(api: Api) -> None:
    settings = api.settings.model_copy(update={"require_key_for_reads": True})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        guarded = Api(settings, client, api.keys, api.seen)
        refused = guarded.gql(RECOMMEND, {"u": 7})
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        allowed = guarded.gql(RECOMMEND, {"u": 7}, key="read")
        assert allowed["data"]["recommendations"]["userId"] == 7


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Experiment-ID": "no-such-experiment"},
        {"x-experiment-id": "a", "X-Experiment-ID": "b"},
        {"Authorization": "Bearer not-a-key"},
        {"X-API-Key": "  wrong  "},
    ],
)
def test_headers_are_read_like_the_standard_path(
    api: Api, standard: Api, headers: dict[str, str]
) -> None:
    body = {"query": RECOMMEND, "variables": {"u": 7}}
    compiled = api.client.post("/graphql", json=body, headers=headers)
    reference = standard.client.post("/graphql", json=body, headers=headers)
    assert _without_request_ids(compiled.json()) == _without_request_ids(reference.json())
