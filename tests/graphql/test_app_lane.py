"""POST /graphql skips Starlette's router but not the middleware a deployer adds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gbrec_graphql.app import create_app

from .conftest import RECOMMEND, Api


class StampMiddleware:
    """Adds ``x-stamp`` to every HTTP response (a stand-in for CORS, tracing...)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-stamp", b"1")]
            await send(message)

        await self.app(scope, receive, stamped)


@pytest.fixture(scope="module")
def stamped(api: Api) -> Iterator[TestClient]:
    app = create_app(api.settings)
    app.add_middleware(StampMiddleware)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_added_middleware_wraps_the_graphql_lane_and_the_other_routes(
    stamped: TestClient,
) -> None:
    answer = stamped.post("/graphql", json={"query": RECOMMEND, "variables": {"u": 7}})
    assert answer.status_code == 200 and answer.headers["x-stamp"] == "1"
    assert answer.json()["data"]["recommendations"]["userId"] == 7
    assert stamped.get("/healthz").headers["x-stamp"] == "1"
    assert stamped.get("/graphql?query={__typename}").headers["x-stamp"] == "1"


def test_the_lane_honours_root_path_and_the_body_limit(api: Api) -> None:
    app = create_app(api.settings)
    with TestClient(app, root_path="/api", raise_server_exceptions=False) as client:
        body = {"query": RECOMMEND, "variables": {"u": 7}}
        assert client.post("/api/graphql", json=body).json()["data"]["recommendations"]
        huge = b'{"query": "' + b"x" * (api.settings.max_body_bytes + 1) + b'"}'
        refused = client.post(
            "/api/graphql", content=huge, headers={"content-type": "application/json"}
        )
        assert refused.status_code == 413


def test_a_body_sent_in_chunks_is_read_whole(api: Api) -> None:
    import json

    payload = json.dumps({"query": RECOMMEND, "variables": {"u": 7}}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 17):
            yield payload[start : start + 17]

    answer = api.client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 200
    assert answer.json()["data"]["recommendations"]["userId"] == 7


def test_middleware_cannot_be_added_once_the_lane_served(api: Api) -> None:
    app = create_app(api.settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.post("/graphql", json={"query": RECOMMEND, "variables": {"u": 7}})
        with pytest.raises(RuntimeError):
            app.add_middleware(StampMiddleware)
