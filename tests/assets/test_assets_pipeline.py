"""The whole graph on tiny data: champion registered; corrupt data stopped by the checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from gbrec_assets.definitions import build_definitions
from gbrec_assets.runner import MaterializeOutcome, materialize_graph
from gbrec_assets.sensors import champion_rollback_sensor, model_degradation_sensor
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, Any, MaterializeOutcome]]:
    home = tmp_path_factory.mktemp("pipeline") / "home"
    settings = Settings(home=home, synthetic_scale="tiny", index_shards=2)
    (home / "dagster").mkdir(parents=True)
    with dg.instance_for_test(temp_dir=str(home / "dagster")) as instance:
        outcome = materialize_graph(settings, instance)
        yield settings, instance, outcome
    from gbrec_core.store import stop_server

    stop_server(settings)


def test_full_graph_registers_a_champion(built: tuple[Settings, Any, MaterializeOutcome]) -> None:
    settings, _, outcome = built
    assert outcome.success, outcome.failed_steps
    assert {"validated_ratings", "registered_model", "vector_index"} <= set(outcome.materialized)
    champion = ModelRegistry(settings).champion()
    assert champion is not None and "champion" in champion.aliases
    shards = list((settings.index_dir / champion.version).glob("*/shard-*"))
    assert len(shards) == 2 * settings.index_shards  # faiss-hnsw and hnsw per shard


def test_corrupt_ratings_fail_checks_and_keep_champion(
    built: tuple[Settings, Any, MaterializeOutcome], tmp_path: Path, corrupt: Callable[..., Path]
) -> None:
    settings, instance, _ = built
    registry = ModelRegistry(settings)
    before = [v.version for v in registry.versions()]
    champion = registry.champion_version()
    bad = corrupt(settings.data_dir / "synthetic-tiny", tmp_path / "bad")
    bad_settings = settings.model_copy(update={"dataset": str(bad)})
    outcome = materialize_graph(bad_settings, instance)
    assert not outcome.success
    failed = {c.check for c in outcome.failed_checks}
    assert {"rating_out_of_range", "non_positive_id", "duplicate_rating"} <= failed
    assert failed & {"unparsable_value", "malformed_row", "wrong_type"}
    assert "registered_model" not in outcome.materialized
    assert "rating_splits" not in outcome.materialized
    assert [v.version for v in registry.versions()] == before
    assert registry.champion_version() == champion


def test_cli_exits_non_zero_on_corrupt_data(
    built: tuple[Settings, Any, MaterializeOutcome],
    tmp_path: Path,
    corrupt: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import typer

    from gbrec_assets.cli import register

    settings, _, _ = built
    bad = corrupt(settings.data_dir / "synthetic-tiny", tmp_path / "bad")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    monkeypatch.setenv("GBREC_HOME", str(settings.resolved_home))
    monkeypatch.setenv("GBREC_DATASET", str(bad))
    monkeypatch.setenv("GBREC_INDEX_SHARDS", "2")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dh"))
    (tmp_path / "dh").mkdir()
    result = CliRunner().invoke(app, ["materialize", "--select", "raw_ratings+"])
    assert result.exit_code == 1
    assert "rating_out_of_range" in result.output


def test_degradation_sensor_reads_live_metric(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    from gbrec_core.monitoring import record_online_metric
    from gbrec_core.store import connect

    settings, instance, _ = built
    champion = ModelRegistry(settings).champion()
    assert champion is not None
    offline = champion.metrics[settings.primary_metric]
    all_resources = build_definitions(settings).resources
    resources = {k: all_resources[k] for k in ("gbrec", "registry", "redis")}
    redis = connect(settings)
    record_online_metric(
        redis, settings.model_name, champion.version, settings.primary_metric, offline * 0.99
    )
    with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
        assert isinstance(model_degradation_sensor(ctx), dg.SkipReason)
    record_online_metric(
        redis,
        settings.model_name,
        champion.version,
        settings.primary_metric,
        offline * (1 - settings.degradation_threshold) * 0.5,
    )
    with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
        request = model_degradation_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["gbrec/trigger"] == "degradation"


def test_rollback_sensor_quiet_after_passing_smoke_check(
    built: tuple[Settings, Any, MaterializeOutcome],
) -> None:
    _, instance, _ = built
    with dg.build_sensor_context(instance=instance) as ctx:
        result = champion_rollback_sensor(ctx)
    assert not result.run_requests
