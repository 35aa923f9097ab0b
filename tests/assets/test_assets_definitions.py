"""The Definitions object: contract assets, checks, automation, schedule, sensors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from gbrec_assets.checks import BLOCKING_RULES
from gbrec_assets.definitions import build_definitions, defs
from gbrec_core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CONTRACT = [
    "raw_ratings",
    "raw_books",
    "raw_tags",
    "raw_book_tags",
    "validated_ratings",
    "rating_splits",
    "model_evaluation",
    "registered_model",
    "item_embeddings",
    "vector_index",
]


def test_contract_assets_and_lineage() -> None:
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(CONTRACT) <= keys
    assert {"popularity_model", "als_model", "content_model", "hybrid_model"} <= keys
    upstream = graph.get(dg.AssetKey("vector_index")).parent_keys
    assert upstream, "vector_index has no parents"
    ancestors = dg.AssetSelection.assets("vector_index").upstream().resolve(graph)
    assert dg.AssetKey("raw_ratings") in ancestors


def test_blocking_checks_freshness_and_automation() -> None:
    graph = defs.resolve_asset_graph()
    checks = [k for k in graph.asset_check_keys if k.asset_key == dg.AssetKey("validated_ratings")]
    blocking = [k for k in checks if graph.get_check_spec(k).blocking]
    assert len(blocking) >= 3
    assert {k.name for k in blocking} >= set(BLOCKING_RULES)
    als = graph.get(dg.AssetKey("als_model"))
    assert als.freshness_policy is not None
    assert als.automation_condition is not None
    assert als.code_version
    assert graph.get(dg.AssetKey("registered_model")).automation_condition is not None


def test_schedule_sensors_jobs() -> None:
    assert defs.resolve_schedule_def("weekly_retrain_schedule").cron_schedule == "0 3 * * 1"
    sensors = {s.name: s for s in defs.sensors or []}
    assert {
        "gbrec_automation_sensor",
        "model_degradation_sensor",
        "run_failure_alert_sensor",
        "champion_rollback_sensor",
        "raw_data_sensor",
    } <= set(sensors)
    assert sensors["gbrec_automation_sensor"].default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_job_def("rollback_job") is not None


def test_milvus_asset_only_when_enabled(tmp_path: Path) -> None:
    def keys(backend: str) -> set[str]:
        built = build_definitions(Settings(home=tmp_path, vector_backend=backend))  # type: ignore[arg-type]
        return {k.to_user_string() for k in built.resolve_asset_graph().get_all_asset_keys()}

    assert "milvus_collection" not in keys("faiss")
    assert "milvus_collection" in keys("milvus")


def test_shard_partitions_follow_settings(tmp_path: Path) -> None:
    built = build_definitions(Settings(home=tmp_path, index_shards=3))
    parts = built.resolve_assets_def("vector_index").partitions_def
    assert parts is not None and parts.get_partition_keys() == ["0", "1", "2"]


@pytest.mark.slow
@pytest.mark.parametrize("with_dagster_home", [True, False])
def test_dagster_definitions_validate(tmp_path: Path, with_dagster_home: bool) -> None:
    """As a user runs it from a clone: with DAGSTER_HOME set, and without (then Dagster
    reads the repository's dagster.yaml for a temporary instance)."""
    dagster = Path(sys.executable).with_name("dagster")
    env = {"PATH": str(dagster.parent), "HOME": str(tmp_path), "GBREC_HOME": str(tmp_path)}
    if with_dagster_home:
        env["DAGSTER_HOME"] = str(tmp_path)
    out = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(REPO / "workspace.yaml")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_milvus_collection_asset_with_milvus_lite(tmp_path: Path) -> None:
    import numpy as np

    from gbrec_assets.assets.index import Embeddings, milvus_collection
    from gbrec_assets.resources import GbrecSettingsResource

    settings = Settings(home=tmp_path, vector_backend="milvus", index_shards=1)
    rng = np.random.default_rng(0)
    emb = Embeddings(
        "3", "v3", np.arange(1, 41, dtype=np.int64), rng.random((40, 8), dtype=np.float32)
    )
    result = milvus_collection(
        gbrec=GbrecSettingsResource.from_settings(settings), item_embeddings=emb
    )
    stats = result.metadata["stats"].value  # type: ignore[index,union-attr]
    assert stats["vectors"] == 40 and stats["collection"] == "gbrec_v3"


def test_milvus_collection_asset_drops_retired_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from gbrec_assets.assets.index import Embeddings, milvus_collection
    from gbrec_assets.resources import GbrecSettingsResource

    monkeypatch.setenv("GBREC_KEEP_VERSIONS", "2")  # read from the environment by the asset
    settings = Settings(home=tmp_path, vector_backend="milvus", index_shards=1)
    vectors = np.random.default_rng(1).random((20, 4), dtype=np.float32)
    dropped = []
    for version in ("1", "2", "3"):
        emb = Embeddings(version, f"v{version}", np.arange(1, 21, dtype=np.int64), vectors)
        result = milvus_collection(
            gbrec=GbrecSettingsResource.from_settings(settings), item_embeddings=emb
        )
        dropped.append(result.metadata["dropped_collections"].value)  # type: ignore[index,union-attr]
    assert dropped == [[], [], ["gbrec_v1"]]
