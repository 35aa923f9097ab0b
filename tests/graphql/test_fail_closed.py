"""Production fails closed; dev GET requests never write."""

from __future__ import annotations

import time
from typing import Any

from gbrec_core.access import create_key, revoke_key
from gbrec_core.access.keys import Scope
from gbrec_core.store import connect

from .conftest import RECOMMEND, Api
from .test_experiments import CREATE, RESULTS, spec


def post(api: Api, query: str, key: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {} if key is None else {"Authorization": f"Bearer {api.keys.get(key, key)}"}
    response = api.client.post("/graphql", json={"query": query}, headers=headers)
    return response.status_code, response.json()


def test_production_refuses_every_anonymous_operation(prod_api: Api) -> None:
    for query in (
        "{ __typename }",
        "{ servingModel { version } }",
        "mutation { rollbackModel { version } }",
    ):
        status, body = post(prod_api, query)
        assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, body = post(prod_api, "{ __typename }", key="gbr_nothere_" + "x" * 20)
    assert status == 401 and "unknown" in body["errors"][0]["message"]
    status, body = post(prod_api, "{ servingModel { version } }", key="read")
    assert status == 200 and body["data"]["servingModel"]["version"] == "1"


def test_production_refuses_get_and_guards_metrics(prod_api: Api) -> None:
    assert prod_api.client.get("/graphql", params={"query": "{ __typename }"}).status_code == 405
    assert prod_api.client.get("/metrics").status_code == 401
    scraped = prod_api.client.get("/metrics", headers={"X-API-Key": prod_api.keys["read"]})
    assert scraped.status_code == 200 and "gbrec_" in scraped.text
    assert prod_api.client.get("/healthz").status_code == 200


def test_failed_logins_are_audited(prod_api: Api) -> None:
    post(prod_api, "{ __typename }", key="gbr_intruder_" + "y" * 20)
    _, body = post(prod_api, "{ auditLog(first: 20) { entries { keyId operation ok } } }", "admin")
    entries = body["data"]["auditLog"]["entries"]
    assert {"keyId": "gbr_intruder", "operation": "authenticate", "ok": False} in entries


def test_revoked_key_is_refused_within_five_seconds(prod_api: Api) -> None:
    redis = connect(prod_api.settings)
    key = create_key(redis, Scope.READ)
    assert post(prod_api, "{ __typename }", key.key)[0] == 200
    revoke_key(redis, key.key_id)
    deadline = time.monotonic() + 5.5
    while post(prod_api, "{ __typename }", key.key)[0] == 200:
        assert time.monotonic() < deadline, "revoked key still accepted after 5 s"
        time.sleep(0.25)
    status, body = post(prod_api, "{ __typename }", key.key)
    assert status == 401 and "revoked" in body["errors"][0]["message"]


def test_expired_key_is_refused(prod_api: Api) -> None:
    key = create_key(connect(prod_api.settings), Scope.READ, expires_in_days=1e-9)
    status, body = post(prod_api, "{ __typename }", key.key)
    assert status == 401 and "expired" in body["errors"][0]["message"]


def test_dev_get_runs_queries_but_records_nothing(api: Api) -> None:
    api.gql(CREATE, {"input": spec("get-ab")}, key="admin")
    monitor = api.client.app.state.services.monitor  # type: ignore[attr-defined]
    before = monitor.stats()["recorded"] + monitor.stats()["buffered"]
    query = (
        '{ recommendations(userId: 5, limit: 3, experimentId: "get-ab") '
        "{ variant items { rank } } }"
    )
    for _ in range(3):
        got = api.client.get("/graphql", params={"query": query})
        assert got.status_code == 200 and len(got.json()["data"]["recommendations"]["items"]) == 3
    monitor_after = monitor.stats()["recorded"] + monitor.stats()["buffered"]
    results = api.gql(RESULTS, {"id": "get-ab"})["data"]["experiment"]["results"]
    assert sum(v["exposures"] for v in results["variants"]) == 0
    assert monitor_after == before
    api.gql('mutation { stopExperiment(id: "get-ab") { status } }', key="admin")
    served = api.gql(RECOMMEND, {"u": 5})["data"]["recommendations"]
    assert served["items"]
