"""Limits, masking, malformed input and the production profile."""

from __future__ import annotations

import logging

import pytest

from .conftest import RECOMMEND, Api


def first_code(body: dict) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def test_300_aliases_are_refused(api: Api) -> None:
    query = "{ " + " ".join(f"a{i}: servingModel {{ version }}" for i in range(300)) + " }"
    body = api.gql(query)
    assert body.get("data") is None and "aliases" in body["errors"][0]["message"]


def test_5000_tokens_are_refused(api: Api) -> None:
    query = "{ servingModel { " + " ".join(["version"] * 5000) + " } }"
    body = api.gql(query)
    assert body.get("data") is None and "token" in body["errors"][0]["message"].lower()


def test_deep_queries_are_refused(api: Api) -> None:
    inner = "__typename"
    for _ in range(15):
        inner = f"__schema {{ queryType {{ ofType: fields {{ type {{ {inner} }} }} }} }}"
    body = api.gql("{ " + inner.replace("__schema", 'a: __type(name: "Query")', 1) + " }")
    assert body.get("data") is None and body["errors"]


def test_malformed_json_is_400(api: Api) -> None:
    for payload in (
        b"{not json",
        b'"just a string"',
        b"[1, 2]",
        b"42",
        b'{"query": 5}',
        b'{"query": "{ book(id: 1) { id } }", "variables": []}',
    ):
        response = api.client.post(
            "/graphql", content=payload, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (payload, response.text)


def test_large_bodies_are_413(api: Api) -> None:
    body = b'{"query": "' + b" " * (5 * 1024 * 1024) + b'{ servingModel { version } }"}'
    response = api.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413

    def chunks():  # no Content-Length: the limit still applies while streaming
        for _ in range(6):
            yield b" " * (1024 * 1024)

    response = api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_bad_variables_are_bad_user_input(api: Api) -> None:
    body = api.gql(RECOMMEND, {"u": "one"})
    assert first_code(body) == "BAD_USER_INPUT"
    body = api.gql(
        'query($a: JSON) { recommendations(userId: 1, experimentId: "x", attributes: $a) '
        "{ userId } }",
        {"a": [1, 2]},
    )
    assert body["errors"]


def test_internal_errors_are_masked_and_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    services = api.client.app.state.services  # type: ignore[attr-defined]
    books = services.books

    class Broken:
        def one(self, book_id: int) -> None:
            raise RuntimeError("secret internal detail /etc/passwd")

    services.books = Broken()
    try:
        with caplog.at_level(logging.ERROR, logger="gbrec_graphql.errors"):
            body = api.gql("{ book(id: 1) { id } }")
    finally:
        services.books = books
    assert first_code(body) == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body) and "Traceback" not in str(body)
    assert "secret internal detail" in caplog.text


def test_production_profile(prod_api: Api) -> None:
    body = prod_api.gql("{ __schema { types { name } } }", key="read")
    assert body.get("data") is None and "introspection" in body["errors"][0]["message"].lower()
    typo = prod_api.gql("{ servingModle { version } }", key="read")
    assert "Did you mean" not in typo["errors"][0]["message"]
    assert prod_api.client.get("/graphql", headers={"accept": "text/html"}).status_code == 405
    served = prod_api.gql(RECOMMEND, {"u": 987654}, key="read")
    assert served["data"]["recommendations"]["fallback"] is True
    assert prod_api.gql("{ __typename }", key="read")["data"] == {"__typename": "Query"}


def test_dev_keeps_suggestions(api: Api) -> None:
    assert "Did you mean" in api.gql("{ servingModle { version } }")["errors"][0]["message"]


def test_keys_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        api.gql("mutation { rollbackModel { version } }", key="read")
        api.gql("{ auditLog { nextCursor } }", key="admin")
    for key in api.keys.values():
        assert key not in caplog.text
