"""Experiment.history: snapshots recorded by results() and by the sweeper, read back in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.sweeper import sweep
from gbrec_core.paging import spread
from gbrec_core.store import connect

from .conftest import Api

CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) { id } }"""
ROUTED = """query($u: Int!, $e: String) { recommendations(userId: $u, limit: 3, experimentId: $e) {
  variant } }"""
HISTORY = """query($id: String!, $since: DateTime, $limit: Int! = 500) { experiment(id: $id) {
  results { computedAt variants { users } }
  history(since: $since, limit: $limit) { computedAt variants { name users }
    metrics { metric variant diff ciLow ciHigh } } } }"""


def test_spread_keeps_first_and_last_evenly() -> None:
    assert spread(10, 20) == list(range(10))
    assert spread(10, 4) == [0, 3, 6, 9]
    assert spread(10, 1) == [9]


def test_history_grows_with_traffic_and_filters(api: Api) -> None:
    exp = "api-history"
    spec = {
        "id": exp,
        "strategy": "RANDOM",
        "autoStop": False,
        "metrics": ["satisfaction"],
        "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
    }
    assert api.gql(CREATE, {"input": spec}, key="admin")["data"]["createExperiment"]["id"] == exp
    service = ExperimentService(
        api.settings.model_copy(update={"experiment_snapshot_seconds": 0.0}),
        connect(api.settings),
    )
    counts = []
    for batch in (range(1, 11), range(11, 31)):
        for user in batch:
            api.gql(ROUTED, {"u": user, "e": exp})
        assert sweep(service) >= 1  # the sweeper snapshots every running experiment
        counts.append(sum(v.users for v in service.results(exp).variants))
    body = api.gql(HISTORY, {"id": exp})
    assert "errors" not in body, body
    history = body["data"]["experiment"]["history"]
    totals = [sum(v["users"] for v in snap["variants"]) for snap in history]
    assert totals == sorted(totals) and totals[-1] == counts[-1] == 30
    assert set(counts) <= set(totals)
    times = [datetime.fromisoformat(s["computedAt"]) for s in history]
    assert times == sorted(times)
    assert {v["name"] for v in history[-1]["variants"]} == {"control", "treatment"}

    later = (times[-1] + timedelta(hours=1)).astimezone(UTC).isoformat()
    empty = api.gql(HISTORY, {"id": exp, "since": later})["data"]["experiment"]["history"]
    assert empty == []
    two = api.gql(HISTORY, {"id": exp, "limit": 2})["data"]["experiment"]["history"]
    assert [s["computedAt"] for s in two] == [history[0]["computedAt"], history[-1]["computedAt"]]
    bad = api.gql(HISTORY, {"id": exp, "limit": 0})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
