"""What readers and frontends need from recommendations (issue 16): filters applied
inside the ranking, new readers from seed books, ``because`` explanations, paging."""

from __future__ import annotations

from typing import Any

import numpy as np

from gbrec_core.serving.catalog import BookCatalog

from .conftest import Api

LIST = """query R($u: Int!, $n: Int! = 10, $t: [String!], $m: TagsMatch! = ANY,
  $xt: [String!], $a: [String!], $xa: [String!], $yf: Int, $yt: Int, $r: Float,
  $x: [Int!], $s: [Int!], $o: Int! = 0, $after: String) {
  recommendations(userId: $u, limit: $n, tags: $t, tagsMatch: $m, excludeTags: $xt,
    authors: $a, excludeAuthors: $xa, yearFrom: $yf, yearTo: $yt, minAverageRating: $r,
    excludeBookIds: $x, seedBookIds: $s, offset: $o, after: $after) {
    fallback modelVersion
    items { rank score book { id title authors year averageRating tags } }
    pageInfo { hasNextPage endCursor } } }"""


def recommend(api: Api, **variables: Any) -> dict[str, Any]:
    body = api.gql(LIST, variables)
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["recommendations"]
    return found


def books_of(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["book"] for item in found["items"]]


def catalogue(api: Api) -> BookCatalog:
    return api.client.app.state.services.books._catalog  # type: ignore[attr-defined, no-any-return]


def a_user(api: Api) -> int:
    return int(api.seen["user_id"].value_counts().index[0])
