"""The closed-loop delivery surface: new ExperimentInput fields, Experiment fields,
deliveryStatus, and the createExperiment audit summary."""

from __future__ import annotations

from typing import Any

from .conftest import Api

CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) {
  id championChallenger guardrails correction minUsersPerVariant cupedCovariate
  championVersion challengerVersion } }"""
STATUS = """{ deliveryStatus { mode championVersion challengerVersion
  experiment { id championVersion challengerVersion } lastDecision { event } } }"""
AUDIT = """{ auditLog(first: 10) { entries { phase operation arguments } } }"""


def cc_spec(exp_id: str, **extra: object) -> dict[str, Any]:
    return {
        "id": exp_id,
        "strategy": "STAGED",
        "stages": [0.3, 0.6],
        "variants": [
            {"name": "champion", "model": "champion"},
            {"name": "challenger", "model": "2"},
        ],
        "metrics": ["ctr", "precision"],
        "championChallenger": True,
        "guardrails": ["precision"],
        "correction": "bh",
        "minUsersPerVariant": 60,
        "cupedCovariate": "ratings_last_30d",
        **extra,
    }


def test_champion_challenger_input_and_fields(api: Api) -> None:
    body = api.gql(CREATE, {"input": cc_spec("cc-fields")}, key="admin")
    created = body["data"]["createExperiment"]
    assert created == {
        "id": "cc-fields",
        "championChallenger": True,
        "guardrails": ["precision"],
        "correction": "bh",
        "minUsersPerVariant": 60,
        "cupedCovariate": "ratings_last_30d",
        "championVersion": "1",
        "challengerVersion": "2",
    }
    api.gql('mutation { stopExperiment(id: "cc-fields") { id } }', key="admin")


def test_ordinary_experiment_has_no_arm_versions(api: Api) -> None:
    spec = cc_spec("cc-plain", championChallenger=False)
    created = api.gql(CREATE, {"input": spec}, key="admin")["data"]["createExperiment"]
    assert created["championVersion"] is None and created["challengerVersion"] is None
    api.gql('mutation { stopExperiment(id: "cc-plain") { id } }', key="admin")


def test_custom_metrics_and_bad_inputs(api: Api) -> None:
    metric = {"name": "ratings", "eventType": "RATING", "aggregation": "mean"}
    spec = cc_spec("cc-custom", metrics=["ratings"], customMetrics=[metric], guardrails=None)
    assert api.gql(CREATE, {"input": spec}, key="admin")["data"]["createExperiment"]["id"]
    api.gql('mutation { stopExperiment(id: "cc-custom") { id } }', key="admin")
    for bad in (
        cc_spec("cc-bad1", correction="bonferroni"),
        cc_spec("cc-bad2", minUsersPerVariant=0),
        cc_spec("cc-bad3", customMetrics=[{**metric, "aggregation": "median"}]),
    ):
        errors = api.gql(CREATE, {"input": bad}, key="admin")["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors


def test_create_is_audited_with_every_input(api: Api) -> None:
    api.gql(CREATE, {"input": cc_spec("cc-audit", seed="s1", alpha=0.01)}, key="admin")
    api.gql('mutation { stopExperiment(id: "cc-audit") { id } }', key="admin")
    records = api.gql(AUDIT, key="admin")["data"]["auditLog"]["entries"]
    created = next(
        r for r in records if (r["operation"], r["phase"]) == ("createExperiment", "intent")
    )
    args = created["arguments"]
    for name in ("seed", "alpha", "autoStop", "hashVersion", "targeting", "guardrails"):
        assert name in args, name
    assert args["championChallenger"] is True and args["seed"] == "s1"


def test_delivery_status(api: Api) -> None:
    api.gql(CREATE, {"input": cc_spec("challenger-v2")}, key="admin")
    status = api.gql(STATUS, key="admin")["data"]["deliveryStatus"]
    assert status["mode"] == "experiment"
    assert status["championVersion"] == "1"
    assert status["experiment"] == {
        "id": "challenger-v2",
        "championVersion": "1",
        "challengerVersion": "2",
    }
    api.gql('mutation { stopExperiment(id: "challenger-v2") { id } }', key="admin")
    status = api.gql(STATUS, key="admin")["data"]["deliveryStatus"]
    assert status["experiment"] is None
