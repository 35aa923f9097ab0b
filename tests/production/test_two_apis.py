"""Two `gbrec serve` processes sharing Redis over TCP and the MLflow registry on PostgreSQL."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.e2e.gbrec_process import ApiProcess, wait_until

from .production_profile import MARKS

pytestmark = MARKS

USERS = range(1, 41)
EXPERIMENT = "prod-shared-ab"
CREATE = """
mutation($id: String!) {
  createExperiment(input: {id: $id, strategy: RANDOM, autoStop: false, metrics: ["satisfaction"],
      variants: [
      {name: "control", model: "champion", weight: 0.5},
      {name: "treatment", model: "champion", weight: 0.5}]}) { id status }
}"""
RECOMMEND = """
query($u: Int!, $e: String) {
  recommendations(userId: $u, limit: 5, experimentId: $e) {
    requestId modelVersion variant experimentId fallback items { book { id } }
  }
}"""
EVENTS = """
mutation($events: [EventInput!]!) { recordEvents(events: $events) { accepted rejected errors } }
"""
RESULTS = """
query($id: String!) {
  experiment(id: $id) {
    status
    results { variants { name users exposures } metrics { metric variant mean users } }
  }
}"""
SERVING = "{ servingModel { version aliases } }"
DEPLOY = "mutation($v: String!) { deployModel(version: $v) { version previousVersion } }"
ROLLBACK = "mutation { rollbackModel { version previousVersion } }"


def _variants(api: ApiProcess) -> dict[int, str]:
    out = {}
    for user in USERS:
        rec = api.gql(RECOMMEND, {"u": user, "e": EXPERIMENT})["recommendations"]
        assert rec["experimentId"] == EXPERIMENT, rec
        out[user] = rec["variant"]
    return out


def test_same_variant_and_counts_add_up_across_processes(
    apis: tuple[ApiProcess, ApiProcess], keys: dict[str, str]
) -> None:
    a, b = apis
    created = a.gql(CREATE, {"id": EXPERIMENT}, key=keys["admin"])["createExperiment"]
    assert created["status"] == "RUNNING"

    via_a, via_b = _variants(a), _variants(b)
    assert via_a == via_b, "the two processes assigned some user differently"
    assert set(via_a.values()) == {"control", "treatment"}

    # One SATISFACTION event per user, alternately through A and B.
    values = {user: float(1 + user % 5) for user in USERS}
    for user in USERS:
        api = a if user % 2 else b
        event = {"userId": user, "experimentId": EXPERIMENT, "type": "SATISFACTION"}
        got = api.gql(EVENTS, {"events": [{**event, "value": values[user]}]}, key=keys["events"])
        assert got["recordEvents"] == {"accepted": 1, "rejected": 0, "errors": []}

    by_variant: dict[str, list[int]] = defaultdict(list)
    for user, variant in via_a.items():
        by_variant[variant].append(user)
    for api in (a, b):  # both read the same shared sums
        results = api.gql(RESULTS, {"id": EXPERIMENT})["experiment"]["results"]
        stats = {v["name"]: v for v in results["variants"]}
        satisfaction = {
            m["variant"]: m for m in results["metrics"] if m["metric"] == "satisfaction"
        }
        for variant, users in by_variant.items():
            assert stats[variant]["users"] == len(users)
            assert stats[variant]["exposures"] == 2 * len(users)  # one request via each API
            assert satisfaction[variant]["users"] == len(users)
            expected = sum(values[u] for u in users) / len(users)
            assert satisfaction[variant]["mean"] == pytest.approx(expected)


def _register_new_version(materialized: Path) -> str:
    """A second registered version (popularity on the materialised data) to deploy."""
    from gbrec_core.data import load_ratings
    from gbrec_core.models import make_recommender
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.settings import Settings

    registry = ModelRegistry(Settings())
    model = make_recommender("popularity").fit(load_ratings(materialized / "ratings.csv"))
    fingerprint = {"sha256": "production-profile", "rows": 1, "users": 1, "books": 1}
    run_id = registry.log_training_run(model, {"ndcg": 0.0}, {}, fingerprint)
    return registry.register(run_id).version


def test_deploy_through_one_is_served_by_the_other(
    apis: tuple[ApiProcess, ApiProcess], keys: dict[str, str], materialized: Path
) -> None:
    a, b = apis
    interval = float(os.environ.get("GBREC_MODEL_WATCH_INTERVAL", "2"))
    before = b.gql(SERVING)["servingModel"]["version"]
    assert a.gql(SERVING)["servingModel"]["version"] == before
    new = _register_new_version(materialized)
    assert new != before

    started = time.monotonic()
    deployed = a.gql(DEPLOY, {"v": new}, key=keys["admin"])["deployModel"]
    assert deployed == {"version": new, "previousVersion": before}
    assert a.gql(SERVING)["servingModel"]["version"] == new  # the deploying process at once

    # The other process polls the champion alias every `interval` s, then downloads,
    # verifies and smoke-tests the bundle before swapping: allow that on a busy machine.
    lag = wait_until(lambda: b.gql(SERVING)["servingModel"]["version"] == new, interval + 30)
    rec = b.gql(RECOMMEND, {"u": 1, "e": None})["recommendations"]
    assert rec["modelVersion"] == new
    print(f"deploy via A visible on B after {lag:.2f}s (watch interval {interval}s)")
    assert time.monotonic() - started < interval + 30

    # And back: a rollback through B reaches A the same way.
    rolled = b.gql(ROLLBACK, key=keys["admin"])["rollbackModel"]
    assert rolled["version"] == before
    wait_until(lambda: a.gql(SERVING)["servingModel"]["version"] == before, interval + 30)
