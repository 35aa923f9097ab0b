"""Every query through the ASGI app against the real engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbrec_core.data import load_books

from .conftest import RECOMMEND, Api


def test_recommendations_for_a_known_user_exclude_read_books(api: Api) -> None:
    user = int(api.seen["user_id"].iloc[0])
    data = api.gql(RECOMMEND, {"u": user, "n": 10})["data"]["recommendations"]
    assert data["userId"] == user and not data["fallback"]
    assert data["modelVersion"] == "1" and len(data["requestId"]) == 32
    ids = [item["book"]["id"] for item in data["items"]]
    assert len(ids) == 10 and len(set(ids)) == 10
    read = set(api.seen.loc[api.seen["user_id"] == user, "book_id"].astype(int))
    assert not read & set(ids)
    assert [item["rank"] for item in data["items"]] == list(range(1, 11))
    scores = [item["score"] for item in data["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(item["book"]["title"] and item["book"]["authors"] for item in data["items"])


def test_unknown_user_gets_popularity_fallback(api: Api) -> None:
    data = api.gql(RECOMMEND, {"u": 987654, "n": 5})["data"]["recommendations"]
    assert data["fallback"] is True and len(data["items"]) == 5
    popular = api.seen["book_id"].value_counts()
    assert data["items"][0]["book"]["id"] in set(popular.index[:3].astype(int))


def test_limit_out_of_range_is_bad_user_input(api: Api) -> None:
    for limit in (-1, 0, 101, 1_000_000):
        body = api.gql(RECOMMEND, {"u": 1, "n": limit})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        sim = api.gql(
            "query($n: Int!) { similarBooks(bookId: 1, limit: $n) { rank } }", {"n": limit}
        )
        assert sim["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_similar_books_come_from_the_index(api: Api) -> None:
    query = "{ similarBooks(bookId: 2, limit: 4) { rank score book { id title } } }"
    items = api.gql(query)["data"]["similarBooks"]
    assert len(items) == 4 and 2 not in {i["book"]["id"] for i in items}
    stats = api.gql("{ vectorIndex { available searches vectors shards kind modelVersion } }")
    index = stats["data"]["vectorIndex"]
    assert index["available"] and index["searches"] >= 1 and index["shards"] == 2
    assert index["vectors"] > 100 and index["kind"] == "faiss-flat" and index["modelVersion"] == "1"


def test_similar_books_of_an_unknown_book_is_not_found(api: Api) -> None:
    body = api.gql("{ similarBooks(bookId: 99999999) { rank } }")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


BOOK = "{ book(id: 2) { id title authors year averageRating imageUrl tags } }"


def test_book_fields_come_from_the_catalogue(api: Api, catalogue_dir: Path) -> None:
    row = load_books(catalogue_dir / "books.csv").set_index("book_id").loc[2]
    data = api.gql(BOOK)["data"]["book"]
    assert data["id"] == 2 and data["title"] == row["title"]
    assert data["year"] == int(row["original_publication_year"])
    assert data["authors"] == [a.strip() for a in row["authors"].split(",")]
    assert data["averageRating"] == pytest.approx(float(row["average_rating"]))
    assert isinstance(data["tags"], list)
    assert api.gql("{ book(id: 123456789) { id } }")["data"]["book"] is None


def test_book_two_is_the_real_harry_potter(api: Api, goodbooks_dir: Path) -> None:
    """Only true of the real books.csv, which ``catalogue_dir`` serves when present."""
    data = api.gql(BOOK)["data"]["book"]
    assert data["title"].startswith("Harry Potter") and data["year"] == 1997
    assert "J.K. Rowling" in data["authors"]


def test_aliased_book_lookups_are_batched_by_the_dataloader(api: Api) -> None:
    query = "{ a: book(id: 1) { title tags } b: book(id: 2) { title tags } c: book(id: 1) { id } }"
    data = api.gql(query)["data"]
    assert data["a"]["title"] != data["b"]["title"] and data["c"]["id"] == 1


def test_model_versions_serving_model_and_paging(api: Api) -> None:
    data = api.gql(
        "{ modelVersions { version aliases metrics createdAt } servingModel { version aliases } }"
    )["data"]
    versions = [v["version"] for v in data["modelVersions"]]
    assert versions == sorted(versions, key=int, reverse=True) and set(versions) >= {"1", "2"}
    assert data["servingModel"]["version"] in versions
    page = api.gql('{ modelVersions(first: 1, after: "2") { version } }')["data"]["modelVersions"]
    assert page == [{"version": "1"}]
    bad = api.gql('{ modelVersions(after: "nope") { version } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


CONNECTION = """query($after: String) { modelVersionsConnection(first: 1, after: $after) {
  edges { cursor node { version } } nodes { version } pageInfo { hasNextPage endCursor } } }"""


def test_model_versions_connection_pages_relay_style(api: Api) -> None:
    listed = [
        v["version"] for v in api.gql("{ modelVersions { version } }")["data"]["modelVersions"]
    ]
    walked, after = [], None
    for _ in listed:
        page = api.gql(CONNECTION, {"after": after})["data"]["modelVersionsConnection"]
        assert [e["node"] for e in page["edges"]] == page["nodes"]
        walked += [e["cursor"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        assert after == walked[-1]
        assert page["pageInfo"]["hasNextPage"] is (len(walked) < len(listed))
    assert walked == listed


def test_health_readiness_and_metrics(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/dashboard").status_code == 200
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["modelVersion"] != "fallback"
    server = api.client.app.state.services.server  # type: ignore[attr-defined]
    assert server.precomputed.wait(ready.json()["modelVersion"], timeout=60) is not None
    assert api.client.get("/readyz").json()["precomputed"] is True
    api.gql(RECOMMEND, {"u": 3})
    text = api.client.get("/metrics").text
    assert 'gbrec_graphql_requests_total{operation="recommendations",outcome="ok"}' in text
    assert "gbrec_recommendations_total{" in text and "gbrec_redis_up 1.0" in text
    assert "gbrec_serving_swaps" in text and "gbrec_serving_load_failures" in text
    assert "gbrec_graphql_request_seconds_bucket" in text
    assert "gbrec_serving_precomputed_tables_" in text


def test_graphiql_and_introspection_in_dev(api: Api) -> None:
    page = api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    body = api.gql("{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_queries_via_get(api: Api) -> None:
    response = api.client.get("/graphql", params={"query": "{ servingModel { version } }"})
    assert response.status_code == 200 and response.json()["data"]["servingModel"]["version"]
    mutation = api.client.get(
        "/graphql", params={"query": "mutation { rollbackModel { version } }"}
    )
    assert mutation.status_code in (400, 405)
