"""Delivery through the real tiny pipeline: v1 champion, then a challenger experiment
(the second run through ``gbrec materialize`` with GBREC_SYNTHETIC_SEED=43), then the
gate mode promoting at once."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import typer
from typer.testing import CliRunner

from gbrec_assets.runner import materialize_graph
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.types import ExperimentStatus
from gbrec_core.registry import BASELINE, CHALLENGER, ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server

pytestmark = pytest.mark.slow


def _registered(instance: dg.DagsterInstance) -> dict[str, object]:
    event = instance.get_latest_materialization_event(dg.AssetKey("registered_model"))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


def _cli_materialize(home: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    from gbrec_assets.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    monkeypatch.delenv("GBREC_DATASET", raising=False)
    for name, value in {
        "GBREC_HOME": str(home),
        "GBREC_SYNTHETIC_SCALE": "tiny",
        "GBREC_INDEX_SHARDS": "2",
        "DAGSTER_HOME": str(home / "dagster-cli"),
        **env,
    }.items():
        monkeypatch.setenv(name, value)
    (home / "dagster-cli").mkdir(exist_ok=True)
    result = CliRunner().invoke(app, ["materialize"])
    assert result.exit_code == 0, result.output


def test_experiment_delivery_starts_a_challenger_experiment_on_new_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    first = Settings(home=home, synthetic_scale="tiny", index_shards=2, delivery="experiment")
    second = first.model_copy(update={"synthetic_seed": 43})
    try:
        with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
            outcome = materialize_graph(first, instance)
            assert outcome.success, outcome.failed_steps
            registry = ModelRegistry(first)
            champion = registry.champion_version()
            assert champion == "1"
            meta = _registered(instance)
            assert (meta["delivery"], meta["alias"], meta["experiment_id"]) == (
                "experiment",
                "champion",
                "none",
            )
            known = {v.version for v in registry.versions()}

            _cli_materialize(
                home, monkeypatch, GBREC_DELIVERY="experiment", GBREC_SYNTHETIC_SEED="43"
            )
            challenger = registry.alias_version(CHALLENGER)
            assert challenger is not None and challenger not in known
            assert registry.champion_version() == champion  # the A/B test decides, not the gate
            assert registry.alias_version(BASELINE) not in (champion, challenger)
            experiments = ExperimentService(second, connect(second))
            running = experiments.find(ExperimentStatus.RUNNING)
            assert [e.id for e in running] == [f"challenger-v{challenger}"]
            exp = running[0]
            assert [(v.name, v.model) for v in exp.spec.variants] == [
                ("champion", champion),
                ("challenger", challenger),
            ]
            assert exp.coverage == second.delivery_stages[0] and exp.spec.champion_challenger

            # GBREC_DELIVERY=gate: today's behaviour, a gate-passing version is champion at once.
            gate = second.model_copy(update={"delivery": "gate", "synthetic_seed": 44})
            outcome = materialize_graph(gate, instance)
            assert outcome.success, outcome.failed_steps
            meta = _registered(instance)
            assert (meta["delivery"], meta["alias"]) == ("gate", "champion"), meta["promotion"]
            assert registry.champion_version() == str(meta["version"])
            assert [e.id for e in experiments.find(ExperimentStatus.RUNNING)] == [exp.id]
    finally:
        stop_server(first)
