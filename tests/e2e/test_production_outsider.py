"""An outsider's checks against a real `gbrec serve` in production mode over HTTPS:
anonymous and GET requests refused, a costly document refused before execution, an
oversized attributes payload refused while /healthz stays fast, a revoked key refused
within 5 s, and no file path in any error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.tls_support import self_signed

from .drill_support import Fleet, build_fleet, new_drill
from .gbrec_process import ApiProcess, create_key, run_gbrec

pytestmark = pytest.mark.slow
RECS = "query($a: JSON) { recommendations(userId: 3, limit: 5, attributes: $a) { items { rank } } }"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return build_fleet(tmp_path_factory.mktemp("outsider-fleet"))


@pytest.fixture
def served(fleet: Fleet, tmp_path: Path) -> Iterator[tuple[ApiProcess, dict[str, str]]]:
    from gbrec_core.store import stop_server

    drill = new_drill(fleet, tmp_path)
    drill.env["GBREC_ENV"] = "production"
    keys = {scope: create_key(drill.env, scope) for scope in ("read", "admin")}
    api = ApiProcess(drill.env, tmp_path / "serve.log", tls=self_signed(tmp_path)).start()
    yield api, {**keys, "home": str(drill.home)}
    api.stop()
    stop_server(drill.settings)


def post(
    api: ApiProcess, query: str, variables: dict | None = None, key: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return api.client.post(
        f"{api.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def test_outsider_checks_in_production_over_https(
    served: tuple[ApiProcess, dict[str, str]],
) -> None:
    api, keys = served
    assert api.url.startswith("https://")
    with pytest.raises(httpx.HTTPError):  # nothing answers plain HTTP on that port
        httpx.get(api.url.replace("https://", "http://") + "/healthz", timeout=5)
    anonymous = post(api, "{ __typename }")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (
        api.client.get(f"{api.url}/graphql", params={"query": "{ __typename }"}).status_code == 405
    )
    ok = post(api, RECS, key=keys["read"]).json()
    assert len(ok["data"]["recommendations"]["items"]) == 5
    aliases = " ".join(
        f'h{i}: experiment(id: "x") {{ history(limit: 2000) {{ computedAt }} }}' for i in range(30)
    )
    costly = post(api, "{ " + aliases + " }", key=keys["read"]).json()
    assert costly["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    _oversized_attributes_keep_healthz_fast(api, keys["read"])
    for body in (
        anonymous.json(),
        costly,
        post(api, "{ book(id: -1) { id } }", key=keys["read"]).json(),
    ):
        assert keys["home"] not in str(body) and "/tmp" not in str(body)


def _oversized_attributes_keep_healthz_fast(api: ApiProcess, key: str) -> None:
    payload = {"email": "a" * 900_000}
    stop, codes = threading.Event(), []

    def attack() -> None:
        with httpx.Client(verify=str(api.tls[0]) if api.tls else True, timeout=30) as client:
            while not stop.is_set():
                answer = client.post(
                    f"{api.url}/graphql",
                    json={"query": RECS, "variables": {"a": payload}},
                    headers={"X-API-Key": key},
                )
                codes.append(answer.json()["errors"][0]["extensions"]["code"])

    attacker = threading.Thread(target=attack)
    attacker.start()
    try:
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            assert api.client.get(f"{api.url}/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
    finally:
        stop.set()
        attacker.join()
    assert codes and set(codes) == {"BAD_USER_INPUT"}
    assert sorted(latencies)[-2] < 0.1, latencies


def test_revoked_key_refused_within_five_seconds(served: tuple[ApiProcess, dict[str, str]]) -> None:
    api, keys = served
    assert post(api, "{ __typename }", key=keys["read"]).status_code == 200
    listed = run_gbrec(["keys", "list", "--json"], api.env, timeout=120)
    read_id = next(k["id"] for k in json.loads(listed.stdout) if k["scope"] == "read")
    assert run_gbrec(["keys", "revoke", read_id], api.env, timeout=120).returncode == 0
    revoked_at = time.monotonic()
    while post(api, "{ __typename }", key=keys["read"]).status_code == 200:
        assert time.monotonic() - revoked_at < 5.0, "revoked key still accepted after 5 s"
        time.sleep(0.2)
    assert post(api, "{ __typename }", key=keys["read"]).status_code == 401
