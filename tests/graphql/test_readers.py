"""What readers and frontends need from recommendations (issue 16): filters applied
inside the ranking, new readers from seed books, ``because`` explanations, paging.

An API of its own on the tiny synthetic catalogue: every book there has tags, authors
and a year (the real sample's book_tags.csv tags only a handful of books).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.data import generate
from gbrec_core.serving.catalog import BookCatalog
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app

from .conftest import BOOKS, Api, api_settings, ratings, register_models
from .conftest import catalogue as data_folder


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("readers")
    synthetic = generate("tiny", root / "synthetic", seed=42)
    settings = api_settings(root / "home", data_folder(synthetic, root / "data"))
    seen = ratings()
    register_models(settings, seen)
    keys = {s.label: create_key(connect(settings), s).key for s in Scope}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, keys, seen)
    stop_server(settings)


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


def unread(api: Api, user: int) -> set[int]:
    read = set(api.seen.loc[api.seen["user_id"] == user, "book_id"].astype(int))
    return {b for b in range(1, BOOKS + 1) if b not in read}


def test_a_tag_filter_walks_deeper_and_keeps_the_ranking(api: Api) -> None:
    """Only books with the tag, full length, in the unfiltered ranking's order."""
    user = a_user(api)
    counts: dict[str, int] = {}
    for book_id in unread(api, user):
        for tag in catalogue(api).record(book_id).tags:
            counts[tag] = counts.get(tag, 0) + 1
    tag = sorted((t for t, n in counts.items() if 15 <= n <= 60), key=lambda t: (counts[t], t))[0]
    full = books_of(recommend(api, u=user, n=100))
    found = recommend(api, u=user, n=10, t=[tag.upper()])
    books = books_of(found)
    assert len(books) == 10 and all(tag in b["tags"] for b in books)
    expected = [b["id"] for b in full if tag in b["tags"]][:10]
    assert [b["id"] for b in books] == expected
    assert [i["rank"] for i in found["items"]] == list(range(1, 11))


def test_a_narrow_filter_scores_the_allowed_books_only(api: Api) -> None:
    """Authors with few unread books: exactly those books, fewer than the limit."""
    user = a_user(api)
    left = unread(api, user)
    counts: dict[str, set[int]] = {}
    for book_id in left:
        for author in catalogue(api).record(book_id).authors:
            counts.setdefault(author, set()).add(book_id)
    authors = sorted(counts, key=lambda a: (-len(counts[a]), a))[:2]
    allowed = counts[authors[0]] | counts[authors[1]]
    narrow = recommend(api, u=user, n=50, a=[a.lower() for a in authors])
    found = books_of(narrow)
    assert {b["id"] for b in found} == allowed
    scores = [item["score"] for item in narrow["items"]]
    assert scores == sorted(scores, reverse=True)
    deep = {b["id"]: i for i, b in enumerate(books_of(recommend(api, u=user, n=100)))}
    in_row = [b["id"] for b in found if b["id"] in deep]
    assert in_row == sorted(in_row, key=deep.__getitem__)  # the model's own order
    found = books_of(recommend(api, u=user, n=5, xa=authors))
    assert len(found) == 5 and not {a for b in found for a in b["authors"]} & set(authors)


def test_all_filters_together(api: Api) -> None:
    user = a_user(api)
    top = books_of(recommend(api, u=user, n=3))
    excluded_tag = top[0]["tags"][-1]
    found = recommend(
        api,
        u=user,
        n=8,
        xt=[excluded_tag],
        yf=1900,
        yt=2015,
        r=3.6,
        x=[b["id"] for b in top[1:]],
    )
    books = books_of(found)
    assert len(books) == 8 and not {b["id"] for b in top} & {b["id"] for b in books}
    for book in books:
        assert excluded_tag not in book["tags"] and 1900 <= book["year"] <= 2015
        assert book["averageRating"] >= 3.6


def test_tags_all_versus_any(api: Api) -> None:
    user = a_user(api)
    first = books_of(recommend(api, u=user, n=1))[0]["tags"]
    pair = [first[1], first[2]]
    every = books_of(recommend(api, u=user, n=10, t=pair, m="ALL"))
    some = books_of(recommend(api, u=user, n=10, t=pair))
    assert every and all(set(pair) <= set(b["tags"]) for b in every)
    assert len(some) == 10 and all(set(pair) & set(b["tags"]) for b in some)


def test_similar_books_filtered(api: Api) -> None:
    query = """query S($a: [Int!]) { similarBooks(bookId: 2, limit: 6, yearFrom: 1950,
      excludeBookIds: $a) { rank book { id year } } }"""
    plain = api.gql("{ similarBooks(bookId: 2, limit: 2) { book { id } } }")["data"]
    skip = [b["book"]["id"] for b in plain["similarBooks"]]
    items = api.gql(query, {"a": skip})["data"]["similarBooks"]
    assert len(items) == 6 and all(i["book"]["year"] >= 1950 for i in items)
    assert not {i["book"]["id"] for i in items} & {*skip, 2}


def test_a_new_reader_with_seed_books(api: Api) -> None:
    """Unknown user + seeds: a personal list (not popularity) near the seeds, seeds
    excluded, explained by the seeds."""
    popular = recommend(api, u=10**6, n=10)
    assert popular["fallback"]
    seeds = [b["id"] for b in books_of(recommend(api, u=a_user(api), n=3))]
    query = LIST.replace("pageInfo {", "items { because { id } } pageInfo {")
    found = api.gql(query, {"u": 10**6, "n": 10, "s": seeds})["data"]["recommendations"]
    ids = [b["id"] for b in books_of(found)]
    assert not found["fallback"] and len(ids) == 10 and not set(ids) & set(seeds)
    assert ids != [b["id"] for b in books_of(popular)]
    near: set[int] = set()
    for seed in seeds:
        similar = api.gql(f"{{ similarBooks(bookId: {seed}, limit: 10) {{ book {{ id }} }} }}")
        near |= {i["book"]["id"] for i in similar["data"]["similarBooks"]}
    assert len(near & set(ids)) >= 3
    because = [{b["id"] for b in item["because"]} for item in found["items"]]
    assert all(reasons and reasons <= set(seeds) for reasons in because)


def test_seeds_of_a_known_user_change_nothing(api: Api) -> None:
    user = a_user(api)
    plain = recommend(api, u=user, n=5)
    assert recommend(api, u=user, n=5, s=[1, 2, 3])["items"] == plain["items"]
    filtered = recommend(api, u=user, n=5, s=[1, 2, 3], yf=1900)
    assert len(filtered["items"]) == 5 and not filtered["fallback"]


def test_because_names_the_users_own_books(api: Api) -> None:
    user = a_user(api)
    query = """query R($u: Int!) { recommendations(userId: $u, limit: 5) {
      items { book { id } because { id title } more: because(limit: 6) { id } } } }"""
    items = api.gql(query, {"u": user})["data"]["recommendations"]["items"]
    read = set(api.seen.loc[api.seen["user_id"] == user, "book_id"].astype(int))
    assert all(item["because"] and {b["id"] for b in item["because"]} <= read for item in items)
    for item in items:
        assert len(item["because"]) <= 3 and item["more"][: len(item["because"])] == [
            {"id": b["id"]} for b in item["because"]
        ]
    assert any(len(item["more"]) > 3 for item in items)
    body = api.gql("{ recommendations(userId: 1) { items { because(limit: 11) { id } } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    similar = api.gql("{ similarBooks(bookId: 2, limit: 2) { because { id } } }")
    assert [i["because"] for i in similar["data"]["similarBooks"]] == [None, None]
    unknown = api.gql("{ recommendations(userId: 1000000, limit: 2) { items { because { id } } } }")
    assert [i["because"] for i in unknown["data"]["recommendations"]["items"]] == [[], []]


def test_pages_by_offset_and_cursor(api: Api) -> None:
    user = a_user(api)
    whole = recommend(api, u=user, n=10)
    first = recommend(api, u=user, n=5)
    assert first["pageInfo"]["hasNextPage"] and first["pageInfo"]["endCursor"]
    by_offset = recommend(api, u=user, n=5, o=5)
    by_cursor = recommend(api, u=user, n=5, after=first["pageInfo"]["endCursor"])
    assert by_offset["items"] == by_cursor["items"] == whole["items"][5:]
    assert [i["rank"] for i in by_offset["items"]] == [6, 7, 8, 9, 10]
    last = recommend(api, u=user, n=10, o=90)
    assert len(last["items"]) == 10 and not last["pageInfo"]["hasNextPage"]


def test_pages_beyond_the_depth_and_bad_cursors_are_refused(api: Api) -> None:
    for variables in (
        {"o": 91},
        {"o": -1},
        {"after": "not a cursor"},
        {"after": "cmFuazo1", "o": 5},
    ):
        body = api.gql(LIST, {"u": a_user(api), **variables})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
    body = api.gql(LIST, {"u": 1, "yf": 2001, "yt": 2000})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
