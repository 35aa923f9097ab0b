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


def _model_dir(registry: ModelRegistry, version: str) -> Path:
    """The folder of the version's logged model (its bundle)."""
    return Path(urlparse(str(registry.version(version).source)).path)


def _logged_model_exists(registry: ModelRegistry, model_id: str) -> bool:
    return model_id in {m.model_id for m in registry.logged_models()}


@pytest.mark.slow
def test_prune_removes_versions_artifacts_caches_indices_and_collections(
    tmp_path: Path,
) -> None:
    settings = Settings(
        home=tmp_path / "home", synthetic_scale="tiny", keep_versions=2, signing_key="k"
    )
    registry = ModelRegistry(settings)
    fp = {"sha256": "r", "rows": 1, "users": 1, "books": 1}
    unregistered = make_recommender("popularity").fit(skewed_ratings(9))
    old = registry.log_model_run(unregistered, {"ndcg": 0.1}, {}, fp)  # before v1
    sibling = registry.log_model_run(  # evaluated beside v2, not registered
        unregistered, {"ndcg": 0.1}, {}, fp, tags={"gbrec.evaluation_run": "eval-2"}
    )
    for seed in range(1, 6):
        model = make_recommender("popularity").fit(skewed_ratings(seed))
        tags = {"gbrec.evaluation_run": f"eval-{seed}"}
        registry.register(registry.log_model_run(model, {"ndcg": 0.1}, {}, fp, tags=tags).run_id)
    new = registry.log_model_run(unregistered, {"ndcg": 0.1}, {}, fp)  # after v5
    registry.promote("2", force=True)
    server = ModelServer(settings, registry)
    for version in ("1", "2", "3"):
        server.ensure_version(version)  # real disk-cache copies
    for version in ("1", "2", "3", "4"):
        (settings.index_dir / version / "faiss-flat").mkdir(parents=True)
    _milvus(settings, "3")
    _milvus(settings, "4")
    model_dirs = {v: _model_dir(registry, v) for v in ("1", "2", "3")}
    model_ids = {v: str(registry.version(v).model_id) for v in ("1", "2", "3")}
    assert all(d.is_dir() for d in model_dirs.values())
    host = settings.model_copy(
        update={"home": tmp_path / "api-host", "mlflow_tracking_uri": settings.tracking_uri}
    )
    host_server = ModelServer(host, ModelRegistry(host))
    for version in ("1", "3", "4"):
        host_server.ensure_version(version)  # an API replica's own disk cache

    preview = prune_versions(settings, registry, dry_run=True)
    assert [p.version for p in preview.pruned] == ["3", "1"]
    assert preview.models == [old.model_id]
    assert [v.version for v in registry.versions()] == ["5", "4", "3", "2", "1"]
    assert _logged_model_exists(registry, old.model_id)

    report = prune_versions(settings, registry)
    assert report.failures == [] and report.kept == ["5", "4", "2"]
    assert [v.version for v in registry.versions()] == ["5", "4", "2"]
    removed = {p.version: p.removed for p in report.pruned}
    assert f"milvus collection {collection_name(settings.model_name, '3')}" in removed["3"]
    assert {"registry version", "disk-cache copy", "index folder"} <= set(removed["1"])
    assert not model_dirs["1"].exists() and not model_dirs["3"].exists()
    assert model_dirs["2"].exists() and server.disk.has("2") and not server.disk.has("3")
    assert not _logged_model_exists(registry, model_ids["1"])
    assert _logged_model_exists(registry, model_ids["2"])
    # The unregistered model older than every kept version went; its run stays.
    assert report.models == [old.model_id] and not _logged_model_exists(registry, old.model_id)
    assert registry.client.get_run(old.run_id).data.metrics["ndcg"] == 0.1
    assert _logged_model_exists(registry, sibling.model_id)  # beside kept v2
    assert _logged_model_exists(registry, new.model_id)  # newer than the oldest kept
    assert registry.load("2").checksum == registry.version("2").checksum
    assert sorted(p.name for p in settings.index_dir.iterdir()) == ["2", "4"]
    pruned_run = registry.client.get_run(str(report.pruned[0].run_id))
    assert PRUNED_TAG in pruned_run.data.tags and pruned_run.data.metrics["ndcg"] == 0.1

    from pymilvus import MilvusClient

    client = MilvusClient(uri=settings.resolved_milvus_uri)
    assert set(client.list_collections()) == {collection_name(settings.model_name, "4")}
    client.close()
    again = prune_versions(settings, registry)
    assert again.pruned == [] and again.models == []

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
