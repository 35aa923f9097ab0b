"""Online metrics through the API: served responses and clicks reach Redis, and a Redis
outage never fails a recommendation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gbrec_core.errors import UnavailableError
from gbrec_core.monitoring import WindowCounts, online_window
from gbrec_graphql.app import create_app
from gbrec_graphql.services import Services

from .conftest import RECOMMEND, Api

EVENTS = """mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected } }"""


def services_of(client: TestClient) -> Services:
    found: Services = client.app.state.services  # type: ignore[attr-defined]
    return found


def counts(api: Api, version: str) -> WindowCounts:
    services = services_of(api.client)
    services.monitor.flush()  # responses served by earlier tests are written first
    now = time.time()
    return online_window(
        services.monitor.store.redis, api.settings.model_name, version, now - 7200, now + 3600
    )


def serve(api: Api, users: range) -> list[dict[str, Any]]:
    return [api.gql(RECOMMEND, {"u": u, "n": 5})["data"]["recommendations"] for u in users]


def test_served_responses_and_clicks_become_online_counts(api: Api) -> None:
    version = serve(api, range(1, 2))[0]["modelVersion"]
    before = counts(api, version)
    recs = serve(api, range(1, 41))
    assert {r["modelVersion"] for r in recs} == {version}
    clicked = recs[:10]
    events = [
        {"userId": r["userId"], "type": "CLICK", "requestId": r["requestId"], "bookId": b}
        for r in clicked
        for b in (
            r["items"][0]["book"]["id"],
            r["items"][0]["book"]["id"],
            r["items"][1]["book"]["id"],
        )
    ]
    events.append({"userId": 1, "type": "CLICK", "requestId": "no-such-request", "bookId": 1})
    events.append({"userId": 1, "type": "IMPRESSION", "requestId": recs[20]["requestId"]})
    result = api.gql(EVENTS, {"e": events}, key="events")["data"]["recordEvents"]
    assert result == {"accepted": len(events), "rejected": 0}
    after = counts(api, version)
    assert after.requests - before.requests == 40
    assert after.shown - before.shown == 200
    assert after.clicked - before.clicked == 10  # each clicked request once
    assert after.hits - before.hits == 20  # two distinct books each, repeats not counted
    metrics = api.client.get("/metrics").text
    assert "gbrec_online_feedback_attributed_total" in metrics
    assert "gbrec_online_feedback_unknown_total" in metrics


def test_a_redis_outage_never_fails_recommendations(api: Api, tmp_path: Path) -> None:
    dead = api.settings.model_copy(
        update={"redis_url": f"unix://{tmp_path / 'no-redis.sock'}", "online_buffer_size": 50}
    )
    with TestClient(create_app(dead), raise_server_exceptions=False) as client:
        served = 0
        for user in range(1, 121):
            response = client.post("/graphql", json={"query": RECOMMEND, "variables": {"u": user}})
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            served += 1
        monitor = services_of(client).monitor
        time.sleep(0.6)  # at least one background flush attempt against the dead socket
        with pytest.raises(UnavailableError):
            monitor.flush()  # waits for a background flush in progress, then fails too
        stats = monitor.stats()
        assert stats["buffered"] <= 50 and stats["recorded"] == 0
        assert stats["dropped"] == served - stats["buffered"]
        assert stats["flush_errors"] >= 1
        exported = client.get("/metrics").text
    assert f"gbrec_online_dropped_total {float(stats['dropped'])}" in exported
