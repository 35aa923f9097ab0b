"""Experiment arms and their models: checked at creation, preloaded, and never an error
at serving time (a broken arm is answered by the champion, without an exposure)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments import ExperimentSpec, VariantSpec
from gbrec_core.models import make_recommender
from gbrec_core.registry import BASELINE, ModelRegistry
from gbrec_core.registry.tracking import CHECKSUM_TAG
from gbrec_graphql.services import Services

from .conftest import Api

CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) {
  id status metrics variants { name model weight } } }"""
ROUTED = """query($u: Int!, $e: String) { recommendations(userId: $u, limit: 3, experimentId: $e) {
  modelVersion variant experimentId fallback items { book { id } } } }"""
EXPOSURES = """query($id: String!) { experiment(id: $id) { results {
  variants { name exposures } } } }"""
USERS = range(1, 41)


def services(api: Api) -> Services:
    found: Services = api.client.app.state.services  # type: ignore[attr-defined]
    return found


def register(api: Api, seed: int) -> str:
    """A new popularity version trained on a resample of the fixture's ratings."""
    registry = ModelRegistry(api.settings)
    seen = api.seen.sample(frac=0.9, random_state=seed)
    model = make_recommender("popularity").fit(seen)
    fp = {"sha256": f"variant-{seed}", "rows": len(seen), "users": 200, "books": 400}
    run_id = registry.log_training_run(model, {"ndcg": 0.05}, {"model": "popularity"}, fp)
    return registry.register(run_id).version


def weighted(exp_id: str, treatment: str) -> dict[str, Any]:
    return {
        "id": exp_id,
        "strategy": "WEIGHTED",
        "metrics": ["ctr", "satisfaction"],
        "variants": [
            {"name": "control", "model": "champion", "weight": 0.5},
            {"name": "treatment", "model": treatment, "weight": 0.5},
        ],
    }


def users_in(api: Api, exp_id: str, variant: str) -> list[int]:
    assign = services(api).experiments.assign
    return [u for u in USERS if (a := assign(exp_id, u)) is not None and a.variant == variant]


def exposures(api: Api, exp_id: str) -> dict[str, int]:
    data = api.gql(EXPOSURES, {"id": exp_id})["data"]["experiment"]["results"]
    return {v["name"]: v["exposures"] for v in data["variants"]}


def fallback_count(api: Api, exp_id: str, reason: str) -> float:
    pattern = (
        rf'gbrec_experiment_variant_fallbacks_total\{{experiment="{re.escape(exp_id)}",'
        rf'reason="{reason}",variant="treatment"\}} (\S+)'
    )
    found = re.search(pattern, api.client.get("/metrics").text)
    return float(found.group(1)) if found else 0.0


def test_create_refuses_a_variant_whose_model_does_not_resolve(api: Api) -> None:
    # The demo's bug: a fresh install has no challenger alias.
    refused = api.gql(CREATE, {"input": weighted("als-vs-pop", "challenger")}, key="admin")
    assert refused["data"] is None
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "'treatment'" in error["message"] and "'challenger'" in error["message"]
    assert api.gql('{ experiment(id: "als-vs-pop") { id } }')["data"]["experiment"] is None
    for model in ("999", "9" * 30, "no-such-alias"):
        bad = api.gql(CREATE, {"input": weighted("bad-model", model)}, key="admin")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
        assert repr(model) in bad["errors"][0]["message"]


def test_python_service_checks_models_with_a_resolver(api: Api) -> None:
    registry = ModelRegistry(api.settings)
    spec = ExperimentSpec(
        id="py-resolver", variants=(VariantSpec("control", "1"), VariantSpec("t", "nope"))
    )
    with pytest.raises(InvalidInputError, match="variant 't': model 'nope'"):
        services(api).experiments.create(spec, resolve_model=registry.resolve)
    assert api.gql('{ experiment(id: "py-resolver") { id } }')["data"]["experiment"] is None


def test_baseline_arm_is_listed_preloaded_and_served(api: Api) -> None:
    version = register(api, 11)
    ModelRegistry(api.settings).set_alias(BASELINE, version)
    listed = api.gql("{ modelVersions { version aliases } }")["data"]["modelVersions"]
    aliases = {v["version"]: v["aliases"] for v in listed}
    assert BASELINE in aliases[version] and "champion" in aliases["1"]
    server = services(api).server
    assert version not in server.cache.versions()
    created = api.gql(CREATE, {"input": weighted("champ-vs-base", BASELINE)}, key="admin")
    experiment = created["data"]["createExperiment"]
    assert experiment["metrics"] == ["ctr", "satisfaction"]
    assert [v["model"] for v in experiment["variants"]] == ["champion", BASELINE]
    assert version in server.cache.versions()  # preloaded at creation
    served = {}
    for user in USERS:
        rec = api.gql(ROUTED, {"u": user, "e": "champ-vs-base"})["data"]["recommendations"]
        served[rec["variant"]] = rec["modelVersion"]
    assert served == {"control": "1", "treatment": version}
    assert sum(exposures(api, "champ-vs-base").values()) == len(USERS)


def test_removed_alias_serves_the_champion_without_exposure(api: Api) -> None:
    registry = ModelRegistry(api.settings)
    version = register(api, 12)
    registry.set_alias("candidate", version)
    api.gql(CREATE, {"input": weighted("lost-alias", "candidate")}, key="admin")
    treated = users_in(api, "lost-alias", "treatment")
    assert treated and len(treated) < len(USERS)
    first = api.gql(ROUTED, {"u": treated[0], "e": "lost-alias"})["data"]["recommendations"]
    assert first["modelVersion"] == version
    registry.client.delete_registered_model_alias(registry.name, "candidate")
    variants = api.client.app.state.services.service.arms  # type: ignore[attr-defined]
    variants.resolve_seconds = 0.0  # re-resolve now instead of after the cache period
    before = exposures(api, "lost-alias")
    for user in treated:
        body = api.gql(ROUTED, {"u": user, "e": "lost-alias"})
        assert "errors" not in body, body
        rec = body["data"]["recommendations"]
        assert rec["modelVersion"] == "1" and rec["variant"] is None
        assert rec["experimentId"] is None and len(rec["items"]) == 3
    assert exposures(api, "lost-alias") == before
    assert fallback_count(api, "lost-alias", "NotFoundError") == len(treated)
    registry.set_alias("candidate", version)
    variants.retry_seconds = 0.0
    again = api.gql(ROUTED, {"u": treated[0], "e": "lost-alias"})["data"]["recommendations"]
    assert again["modelVersion"] == version and again["variant"] == "treatment"


def test_corrupt_artifact_serves_the_champion_without_exposure(api: Api) -> None:
    registry = ModelRegistry(api.settings)
    version = register(api, 13)
    # Created without the API's check (another process, or before it existed); then the
    # registry's checksum stops matching the artifact, as a corrupted upload would.
    spec = ExperimentSpec(
        id="corrupt-arm",
        variants=(VariantSpec("control", "champion"), VariantSpec("treatment", version)),
    )
    services(api).experiments.create(spec)
    registry.client.set_model_version_tag(registry.name, version, CHECKSUM_TAG, "0" * 64)
    treated = users_in(api, "corrupt-arm", "treatment")
    control = users_in(api, "corrupt-arm", "control")
    for user in treated + control[:3]:
        body = api.gql(ROUTED, {"u": user, "e": "corrupt-arm"})
        assert "errors" not in body, body
        assert body["data"]["recommendations"]["modelVersion"] == "1"
    assert exposures(api, "corrupt-arm") == {"control": 3, "treatment": 0}
    assert fallback_count(api, "corrupt-arm", "ModelLoadError") == len(treated)


def test_deploy_can_target_the_baseline_and_rollback_restores(api: Api) -> None:
    registry = ModelRegistry(api.settings)
    version = register(api, 14)
    registry.set_alias(BASELINE, version)
    previous = registry.previous_champion()
    deploy = f'mutation {{ deployModel(version: "{version}") {{ version previousVersion }} }}'
    deployed = api.gql(deploy, key="admin")["data"]["deployModel"]
    try:
        assert deployed == {"version": version, "previousVersion": "1"}
        assert set(registry.version(version).aliases) == {BASELINE, "champion"}
        assert api.gql("{ servingModel { version } }")["data"]["servingModel"]["version"] == version
    finally:
        rolled = api.gql("mutation { rollbackModel { version } }", key="admin")
    assert rolled["data"]["rollbackModel"]["version"] == "1"
    assert registry.champion_version() == "1" and registry.previous_champion() == previous
    assert registry.version(version).aliases == [BASELINE]
