"""backup -> fresh home -> restore -> the same recommendations, experiments and keys.

A real home: embedded Redis, sqlite MLflow with file artifacts, generated secrets. The
source home is deleted before the restore, so nothing can be read from it; the
commands run through the ``gbrec`` entry point (``python -m gbrec_core.cli``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.access import KeyVerifier, Scope, create_key
from gbrec_core.access.secret_keys import pseudonym_key, signing_key
from gbrec_core.backup import backup, restore
from gbrec_core.cli.recommend import answer, as_json
from gbrec_core.errors import BackupError
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.types import ExperimentSpec, VariantSpec
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, connect_async, stop_server
from tests.redis_support import empty_database

USERS = range(1, 13)


def _ratings(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(1, 81, 3000),
            "book_id": rng.integers(1, 201, 3000),
            "rating": rng.integers(1, 6, 3000).astype(np.int8),
        }
    )
    return frame.drop_duplicates(["user_id", "book_id"]).reset_index(drop=True)


def _populate(settings: Settings) -> str:
    """Two versions (ALS champion), a running experiment on both, an admin key."""
    registry = ModelRegistry(settings)
    fp = {"sha256": "backup", "rows": 1, "users": 1, "books": 1}
    als = make_recommender("als", factors=8, iterations=3, num_threads=1).fit(_ratings(1))
    v1 = registry.register(registry.log_training_run(als, {"ndcg": 0.2}, {}, fp)).version
    pop = make_recommender("popularity").fit(_ratings(2))
    v2 = registry.register(registry.log_training_run(pop, {"ndcg": 0.1}, {}, fp)).version
    registry.promote(v1, force=True)
    client = connect(settings)
    spec = ExperimentSpec(
        id="backup-ab", variants=(VariantSpec("control", "champion"), VariantSpec("treat", v2))
    )
    ExperimentService(settings, client).create(spec)
    key = create_key(client, Scope.ADMIN).key
    client.close()
    return key


def _answers(settings: Settings) -> list[dict[str, object]]:
    found = []
    for user in USERS:
        for experiment in (None, "backup-ab"):
            listed = as_json(*answer(settings, user, 5, experiment))
            listed.pop("requestId")
            found.append(listed)
    return found


def _experiments(settings: Settings) -> list[tuple[str, str, object]]:
    client = connect(settings)
    try:
        return [(e.id, e.status.value, e.spec) for e in ExperimentService(settings, client).find()]
    finally:
        client.close()


def _gbrec(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GBREC_HOME": str(settings.home), "GBREC_DATASET": settings.dataset}
    return subprocess.run(
        [sys.executable, "-m", "gbrec_core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_backup_then_restore_into_a_fresh_home_serves_the_same(
    tmp_path: Path, catalogue_dir: Path
) -> None:
    source = Settings(home=tmp_path / "source" / "home", dataset=str(catalogue_dir))
    empty_database(source)
    key = _populate(source)
    before = _answers(source)
    assert {a["modelVersion"] for a in before} == {"1", "2"}  # both arms, no fallback
    experiments = _experiments(source)
    secrets = signing_key(source), pseudonym_key(source)

    saved = _gbrec(source, "backup", str(tmp_path / "backup"), "--json")
    assert saved.returncode == 0, saved.stderr
    manifest = json.loads(saved.stdout)
    assert manifest["redis"]["keys"] > 0 and manifest["registry"]["copied"]
    assert sorted(manifest["secrets"]) == ["pseudonym.key", "signing.key"]
    assert (tmp_path / "backup").stat().st_mode & 0o077 == 0  # it holds secrets
    stop_server(source)
    shutil.rmtree(tmp_path / "source")
    empty_database(source)  # a GBREC_TEST_REDIS_URL is shared: make it the new, empty Redis

    target = Settings(home=tmp_path / "fresh" / "home", dataset=str(catalogue_dir))
    try:
        restored = _gbrec(target, "restore", str(tmp_path / "backup"))
        assert restored.returncode == 0, restored.stderr
        assert (signing_key(target), pseudonym_key(target)) == secrets
        assert _answers(target) == before
        assert _experiments(target) == experiments
        principal = asyncio.run(KeyVerifier(connect_async(target)).verify(key))
        assert principal.scope is Scope.ADMIN
        again = _gbrec(target, "restore", str(tmp_path / "backup"))
        assert again.returncode == 1 and "--force" in again.stderr
    finally:
        stop_server(target)


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    tmp_path: Path, catalogue_dir: Path
) -> None:
    source = Settings(home=tmp_path / "source", dataset=str(catalogue_dir))
    target = Settings(home=tmp_path / "target", dataset=str(catalogue_dir))
    try:
        client = connect(source)
        create_key(client, Scope.READ)
        client.close()
        backup(source, tmp_path / "backup")
        with pytest.raises(BackupError, match="not empty"):
            backup(source, tmp_path / "backup")
        dump = tmp_path / "backup" / "redis.dump"
        dump.write_bytes(dump.read_bytes()[:-1] + b"\0")
        with pytest.raises(BackupError, match=r"redis\.dump"):
            restore(target, tmp_path / "backup")
        assert not (target.resolved_home / "secrets").exists()
    finally:
        stop_server(source)
        stop_server(target)
