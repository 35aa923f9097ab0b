"""Pseudonymised users and the right to erasure, through the real API and the CLI.

An API of its own (own GBREC_HOME and Redis) serves experiment traffic for two users
whose ids are long enough (10 digits) that finding their decimal string anywhere in
Redis cannot be chance, one known to the model (served lists, online metrics) and one
not (fallback answers), plus ordinary small ids. After the traffic every key and value
of every type is dumped: the raw ids appear nowhere, the pseudonyms do. ``deleteUser``
and ``gbrec users delete`` then erase one user each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.access.pseudonyms import Pseudonymizer
from gbrec_core.serving.types import FALLBACK_VERSION
from gbrec_core.settings import Settings
from gbrec_core.store import RedisClient, connect, stop_server
from gbrec_graphql.app import create_app
from tests.redis_support import empty_database

from .conftest import Api, api_settings, catalogue, ratings, register_models

KNOWN, UNKNOWN = 1928374650, 2069143587  # in the model's training data / not
SMALL = list(range(1, 41))
EXP = "privacy-ab"
CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) { id } }"""
ROUTED = """query($u: Int!) { recommendations(userId: $u, limit: 4, experimentId: "privacy-ab") {
  requestId modelVersion variant fallback items { book { id } } } }"""
EVENTS = """mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected } }"""
USERS = """{ experiment(id: "privacy-ab") { results { variants { users exposures } } } }"""
DELETE = """mutation($u: Int!) { deleteUser(userId: $u) {
  userId experiments exposures rawEvents buffered served snapshots } }"""
AUDIT = "{ auditLog(first: 5) { entries { phase keyId operation arguments result ok } } }"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("privacy")
    settings = api_settings(root / "home", catalogue(catalogue_dir, root / "data"))
    empty_database(settings)
    base = ratings()
    mine = base[base.user_id == 1].assign(user_id=KNOWN)  # a real history under a long id
    seen = pd.concat([base, mine], ignore_index=True)
    register_models(settings, seen)
    keys = {s.label: create_key(connect(settings), s).key for s in Scope}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, keys, seen)
    stop_server(settings)


@pytest.fixture(scope="module")
def traffic(api: Api) -> dict[int, list[dict[str, Any]]]:
    """Experiment traffic: lists served (exposures, served log), then clicks, ratings
    and satisfaction, tagged and untagged; all written to Redis before returning."""
    spec = {
        "id": EXP,
        "strategy": "RANDOM",
        "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
        "metrics": ["ctr", "satisfaction"],
    }
    assert "errors" not in api.gql(CREATE, {"input": spec}, key="admin")
    served: dict[int, list[dict[str, Any]]] = {}
    for user in [KNOWN, UNKNOWN, *SMALL]:
        for _ in range(2):
            body = api.gql(ROUTED, {"u": user})
            assert "errors" not in body, body
            served.setdefault(user, []).append(body["data"]["recommendations"])
    events = [e for user, lists in served.items() for e in _feedback(user, lists)]
    recorded = api.gql(EVENTS, {"e": events}, key="events")["data"]["recordEvents"]
    assert recorded == {"accepted": len(events), "rejected": 0}
    api.client.app.state.services.monitor.flush()  # type: ignore[attr-defined]
    return served


def _feedback(user: int, lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first, second = lists
    book = first["items"][0]["book"]["id"]
    tagged = {"userId": user, "experimentId": EXP, "requestId": first["requestId"]}
    return [
        {**tagged, "type": "CLICK", "bookId": book},
        {**tagged, "type": "RATING", "bookId": book, "value": 5.0},
        {**tagged, "type": "SATISFACTION", "value": 4.0},
        {"userId": user, "type": "CLICK", "requestId": second["requestId"], "bookId": book},
    ]


def dump(settings: Settings) -> bytes:
    """Every key and every value of every type, as one blob (binary values included)."""
    r = connect(settings, decode_responses=False)
    parts: list[bytes] = []
    try:
        for key in r.scan_iter(count=1000):
            parts += [key, *_values(r, key)]
    finally:
        r.close()
    return b"\n".join(parts)


def _values(r: RedisClient, key: bytes) -> list[bytes]:
    kind = r.type(key)
    if kind == b"string":
        return [r.get(key) or b""]
    if kind == b"hash":
        return [x for pair in r.hgetall(key).items() for x in pair]
    if kind == b"set":
        return list(r.smembers(key))
    if kind == b"zset":
        return [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
    if kind == b"list":
        return list(r.lrange(key, 0, -1))
    if kind == b"stream":
        return [x for i, f in r.xrange(key) for x in [i, *(y for kv in f.items() for y in kv)]]
    raise AssertionError(f"unexpected type {kind!r} of {key!r}")


def logged_users(settings: Settings) -> list[Any]:
    """The ``user`` of every raw-log line and every ``users`` hash field."""
    r = connect(settings)
    found: list[Any] = []
    for key in r.scan_iter(match="gbrec:exp:*"):
        if key.endswith(":log"):
            for member in r.zrange(key, 0, -1):
                found += [json.loads(line)["user"] for line in member.split("\n")[1:]]
        elif key.endswith(":users"):
            found += list(r.hkeys(key))
    return found


def test_no_raw_user_id_anywhere_in_redis(
    api: Api, traffic: dict[int, list[dict[str, Any]]]
) -> None:
    assert not traffic[KNOWN][0]["fallback"] and traffic[UNKNOWN][0]["fallback"]
    assert logged(traffic[KNOWN]) == 2  # the known user's lists feed online metrics
    blob = dump(api.settings)
    pseudonym = Pseudonymizer.from_settings(api.settings)
    for user in (KNOWN, UNKNOWN):
        assert str(user).encode() not in blob
        assert pseudonym(user).encode() in blob  # the data is there, under the pseudonym
    users = logged_users(api.settings)
    assert len(users) > 5 * len(SMALL) and all(HEX32.match(u) for u in users)
    assert {pseudonym(u) for u in SMALL} <= set(users)
    # small ids are digits found anywhere by chance: check the per-user keys instead
    books = [k.rsplit(":", 1)[1] for k in connect(api.settings).scan_iter(match="*:books:*")]
    assert len(books) >= len(SMALL) and all(HEX32.match(b) for b in books)


def logged(lists: list[dict[str, Any]]) -> int:
    """Served records written for these lists (the popularity fallback is not logged)."""
    return sum(1 for found in lists if found["modelVersion"] != FALLBACK_VERSION)


def _arm_totals(api: Api) -> tuple[int, int]:
    variants = api.gql(USERS)["data"]["experiment"]["results"]["variants"]
    return sum(v["users"] for v in variants), sum(v["exposures"] for v in variants)


def test_delete_user_erases_the_users_experiment_and_serving_data(
    api: Api, traffic: dict[int, list[dict[str, Any]]]
) -> None:
    users, exposures = _arm_totals(api)
    erased = api.gql(DELETE, {"u": KNOWN}, key="admin")["data"]["deleteUser"]
    # 2 exposures + 3 tagged events + 1 untagged
    assert erased == {
        "userId": KNOWN,
        "experiments": 1,
        "exposures": 2,
        "rawEvents": 6,
        "buffered": 0,
        "served": logged(traffic[KNOWN]),
        "snapshots": 1,
    }
    assert _arm_totals(api) == (users - 1, exposures - 2)
    pseudonym = Pseudonymizer.from_settings(api.settings)(KNOWN)
    assert pseudonym.encode() not in dump(api.settings)
    outcome, intent = api.gql(AUDIT, key="admin")["data"]["auditLog"]["entries"][:2]
    assert (intent["phase"], intent["operation"]) == ("intent", "deleteUser")
    assert intent["arguments"] == {"userId": KNOWN}
    assert (outcome["phase"], outcome["ok"], outcome["result"]) == ("outcome", True, erased)
    again = api.gql(DELETE, {"u": KNOWN}, key="admin")["data"]["deleteUser"]
    assert {k: v for k, v in again.items() if k != "userId"} == dict.fromkeys(
        ["experiments", "exposures", "rawEvents", "buffered", "served", "snapshots"], 0
    )


def test_delete_user_needs_the_admin_scope(
    api: Api, traffic: dict[int, list[dict[str, Any]]]
) -> None:
    for key in (None, "read", "events"):
        body = api.gql(DELETE, {"u": UNKNOWN}, key=key)
        assert body["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
    assert Pseudonymizer.from_settings(api.settings)(UNKNOWN) in logged_users(api.settings)


def test_the_cli_twin_erases_and_audits(api: Api, traffic: dict[int, list[dict[str, Any]]]) -> None:
    users, exposures = _arm_totals(api)
    s = api.settings
    env = {**os.environ, "GBREC_HOME": str(s.home), "GBREC_DATASET": s.dataset}
    out = subprocess.run(
        [sys.executable, "-m", "gbrec_core.cli", "users", "delete", str(UNKNOWN), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    report = json.loads(out.stdout)
    assert report == {
        "userId": UNKNOWN,
        "experiments": 1,
        "exposures": 2,
        "rawEvents": 6,
        "buffered": 0,
        "served": logged(traffic[UNKNOWN]),
        "snapshots": 1,
    }
    assert _arm_totals(api) == (users - 1, exposures - 2)
    pseudonym = Pseudonymizer.from_settings(s)(UNKNOWN)
    assert pseudonym.encode() not in dump(s)
    outcome, intent = api.gql(AUDIT, key="admin")["data"]["auditLog"]["entries"][:2]
    assert intent["keyId"].startswith("cli:") and intent["operation"] == "deleteUser"
    assert intent["arguments"] == {"userId": UNKNOWN}
    assert (outcome["phase"], outcome["ok"], outcome["result"]) == ("outcome", True, report)
