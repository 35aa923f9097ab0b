"""Retention against a real sqlite MLflow, file artifacts, a disk cache and Milvus Lite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from gbrec_core.index import make_index
from gbrec_core.index.milvus import collection_name
from gbrec_core.models import make_recommender
from gbrec_core.registry import BASELINE, ModelRegistry, ModelVersionInfo
from gbrec_core.registry.retention import PRUNED_TAG, prune_versions, versions_to_prune
from gbrec_core.serving import ModelServer
from gbrec_core.settings import Settings
from gbrec_core.store import stop_server

from ..skewed_ratings import skewed_ratings


def _info(version: int, *aliases: str) -> ModelVersionInfo:
    return ModelVersionInfo(str(version), list(aliases), {}, datetime.now(UTC))


def test_versions_beyond_the_newest_n_without_alias_or_protection_are_chosen() -> None:
    versions = [_info(1, BASELINE), _info(2), _info(3, "champion"), _info(4), _info(5), _info(6)]
    doomed = versions_to_prune(versions, keep=2, protected={"2"})
    assert [v.version for v in doomed] == ["4"]
    assert versions_to_prune(versions, keep=10) == []


def _milvus(settings: Settings, version: str) -> None:
    index = make_index(
        "milvus",
        dim=4,
        metric="ip",
        uri=settings.resolved_milvus_uri,
        collection=collection_name(settings.model_name, version),
    )
    index.add(np.arange(1, 6, dtype=np.int64), np.eye(5, 4, dtype=np.float32))
    index.close()


def _run_dir(settings: Settings, registry: ModelRegistry, version: str) -> Path:
    run = registry.client.get_run(str(registry.version(version).run_id))
    return Path(urlparse(run.info.artifact_uri).path)


@pytest.mark.slow
def test_prune_removes_versions_artifacts_caches_indices_and_collections(
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path / "home", synthetic_scale="tiny", keep_versions=2, signing_key="k"
    )
    registry = ModelRegistry(settings)
    fp = {"sha256": "r", "rows": 1, "users": 1, "books": 1}
    for seed in range(1, 6):
        model = make_recommender("popularity").fit(skewed_ratings(seed))
        registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp))
    registry.promote("2", force=True)
    server = ModelServer(settings, registry)
    for version in ("1", "2", "3"):
        server.ensure_version(version)  # real disk-cache copies
    for version in ("1", "2", "3", "4"):
        (settings.index_dir / version / "faiss-flat").mkdir(parents=True)
    _milvus(settings, "3")
    _milvus(settings, "4")
    run_dirs = {v: _run_dir(settings, registry, v) for v in ("1", "2", "3")}
    host = settings.model_copy(
        update={"home": tmp_path / "api-host", "mlflow_tracking_uri": settings.tracking_uri}
    )
    host_server = ModelServer(host, ModelRegistry(host))
    for version in ("1", "3", "4"):
        host_server.ensure_version(version)  # an API replica's own disk cache

    preview = prune_versions(settings, registry, dry_run=True)
    assert [p.version for p in preview.pruned] == ["3", "1"]
    assert [v.version for v in registry.versions()] == ["5", "4", "3", "2", "1"]

    report = prune_versions(settings, registry)
    assert report.failures == [] and report.kept == ["5", "4", "2"]
    assert [v.version for v in registry.versions()] == ["5", "4", "2"]
    removed = {p.version: p.removed for p in report.pruned}
    assert f"milvus collection {collection_name(settings.model_name, '3')}" in removed["3"]
    assert {"registry version", "disk-cache copy", "index folder"} <= set(removed["1"])
    assert not run_dirs["1"].exists() and not run_dirs["3"].exists()
    assert run_dirs["2"].exists() and server.disk.has("2") and not server.disk.has("3")
    assert sorted(p.name for p in settings.index_dir.iterdir()) == ["2", "4"]
    pruned_run = registry.client.get_run(str(report.pruned[0].run_id))
    assert PRUNED_TAG in pruned_run.data.tags and pruned_run.data.metrics["ndcg"] == 0.1

    from pymilvus import MilvusClient

    client = MilvusClient(uri=settings.resolved_milvus_uri)
    assert set(client.list_collections()) == {collection_name(settings.model_name, "4")}
    client.close()
    assert prune_versions(settings, registry).pruned == []

    # On the API host, `gbrec prune` clears its copies of the versions pruned above.
    env = {
        **os.environ,
        "GBREC_HOME": str(host.home),
        "GBREC_MLFLOW_TRACKING_URI": settings.tracking_uri,
        "GBREC_KEEP_VERSIONS": "2",
    }
    try:
        out = subprocess.run(
            [sys.executable, "-m", "gbrec_core.cli", "prune", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    finally:
        stop_server(host)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["orphans"] == ["1", "3"]
    assert not host_server.disk.has("1") and not host_server.disk.has("3")
    assert host_server.disk.has("4")
