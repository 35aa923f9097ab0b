"""``gbrec backup DIR`` / ``gbrec restore DIR``: one folder with everything a home needs.

What a backup holds (``manifest.json`` lists it, with a SHA-256 per file):

- ``redis.dump``: every Redis key (experiments, events, online metrics, API keys, the
  audit log), see :mod:`gbrec_core.backup.redis_snapshot`;
- ``mlflow.db``: the SQLite registry (a PostgreSQL registry is recorded, not copied:
  use ``pg_dump``);
- ``mlartifacts/``: the file artifact root (an ``s3://`` root or an MLflow server's
  store is durable on its own and is recorded, not copied);
- ``secrets/``: the generated signing and pseudonym keys, without which bundles no
  longer verify and pseudonymised user ids no longer match. **The backup therefore
  holds secrets**: it is written with mode 0700 and must be stored like a key.

Not included, because they are derived and rebuilt on use: disk-cache copies, vector
index folders, Milvus collections, the data set; Dagster's run history lives in its
own instance storage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gbrec_core.backup.redis_snapshot import dump_redis, load_redis
from gbrec_core.backup.registry_db import (
    copy_sqlite,
    file_root,
    relocate_artifacts,
    sqlite_path,
)
from gbrec_core.errors import BackupError
from gbrec_core.registry.tracking import experiment_artifact_root
from gbrec_core.settings import Settings
from gbrec_core.store import connect, key_count

log = logging.getLogger(__name__)

FORMAT = "gbrec-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REDIS_FILE = "redis.dump"
REGISTRY_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
SECRETS_DIR = "secrets"
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class BackupSummary:
    """What a backup holds or a restore put back (``manifest.json`` of the folder)."""

    path: Path
    manifest: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), **self.manifest}


def backup(settings: Settings, target: Path) -> BackupSummary:
    """Write a backup of ``settings``'s home into ``target`` (new or empty)."""
    _prepare_target(target)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "model_name": settings.model_name,
        "redis": _backup_redis(settings, target),
        "registry": _backup_registry(settings, target),
        "artifacts": _backup_artifacts(settings, target),
        "secrets": _backup_secrets(settings, target),
    }
    manifest["files"] = _digests(target)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    log.warning("backup in %s holds the signing and pseudonym keys: store it like a key", target)
    return BackupSummary(target, manifest)


def restore(settings: Settings, source: Path, *, force: bool = False) -> BackupSummary:
    """Put a backup back into ``settings``'s home; refuses a home in use unless ``force``."""
    manifest = read_manifest(source)
    settings.ensure_home()
    if not force:
        _refuse_used_home(settings)
    _restore_secrets(settings, source, manifest)
    new_root = _restore_artifacts(settings, source, manifest)
    _restore_registry(settings, source, manifest, new_root)
    client = connect(settings)
    try:
        keys = load_redis(client, source / REDIS_FILE)
    finally:
        client.close()
    log.info("restored %s Redis keys from %s", keys, source)
    return BackupSummary(source, manifest)


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest, after every listed file matched its digest (and no file is missing)."""
    try:
        manifest: dict[str, Any] = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise BackupError(f"{source} holds no readable gbrec backup manifest: {e}") from e
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{source} is not a gbrec backup of format {FORMAT_VERSION}")
    actual = _digests(source)
    bad = sorted(k for k, v in manifest.get("files", {}).items() if actual.get(k) != v)
    if bad:
        raise BackupError(f"backup {source} is damaged or incomplete: {', '.join(bad[:5])}")
    return manifest


# ---- backup steps --------------------------------------------------------------------------------
def _prepare_target(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; back up into a new or empty folder")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.chmod(0o700)


def _backup_redis(settings: Settings, target: Path) -> dict[str, Any]:
    client = connect(settings)
    try:
        return {"file": REDIS_FILE, "keys": dump_redis(client, target / REDIS_FILE)}
    finally:
        client.close()


def _backup_registry(settings: Settings, target: Path) -> dict[str, Any]:
    database = sqlite_path(settings.tracking_uri)
    if database is None:
        return {"copied": False, "note": "not SQLite: back the registry up with pg_dump"}
    if not database.exists():
        return {"copied": False, "note": "no registry database yet"}
    copy_sqlite(database, target / REGISTRY_FILE)
    return {"copied": True, "file": REGISTRY_FILE}


def _backup_artifacts(settings: Settings, target: Path) -> dict[str, Any]:
    uri = experiment_artifact_root(settings)
    folder = file_root(uri)
    if folder is None:
        return {"copied": False, "root": uri, "note": "remote artifact store: durable on its own"}
    if folder.is_dir():
        shutil.copytree(folder, target / ARTIFACTS_DIR)
    return {"copied": True, "root": uri, "dir": ARTIFACTS_DIR}


def _backup_secrets(settings: Settings, target: Path) -> list[str]:
    source = settings.resolved_home / SECRETS_DIR
    names = sorted(p.name for p in source.glob("*.key")) if source.is_dir() else []
    if names:
        (target / SECRETS_DIR).mkdir(mode=0o700)
    for name in names:
        shutil.copy2(source / name, target / SECRETS_DIR / name)
        (target / SECRETS_DIR / name).chmod(0o600)
    return names


# ---- restore steps -------------------------------------------------------------------------------
def _refuse_used_home(settings: Settings) -> None:
    database = sqlite_path(settings.tracking_uri)
    client = connect(settings)
    try:
        keys = key_count(client)
    finally:
        client.close()
    if keys or (database is not None and database.exists()):
        raise BackupError(
            f"the target already has state (Redis keys: {keys}, registry database: "
            f"{database is not None and database.exists()}); restore into a fresh home "
            "or pass --force to overwrite"
        )


def _restore_secrets(settings: Settings, source: Path, manifest: dict[str, Any]) -> None:
    folder = settings.resolved_home / SECRETS_DIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in manifest.get("secrets", []):
        staged = folder / f".{name}.restore"
        shutil.copyfile(source / SECRETS_DIR / name, staged)
        staged.chmod(0o600)
        os.replace(staged, folder / name)


def _restore_artifacts(settings: Settings, source: Path, manifest: dict[str, Any]) -> str | None:
    """Copy the artifact tree to this home's file root; returns that root's URI."""
    info = manifest["artifacts"]
    if not info.get("copied"):
        return None
    uri = experiment_artifact_root(settings)
    folder = file_root(uri)
    if folder is None:
        raise BackupError(f"the backup holds file artifacts but this home's root is {uri}")
    if (source / ARTIFACTS_DIR).is_dir():
        shutil.copytree(source / ARTIFACTS_DIR, folder, dirs_exist_ok=True)
    return uri


def _restore_registry(
    settings: Settings, source: Path, manifest: dict[str, Any], new_root: str | None
) -> None:
    if not manifest["registry"].get("copied"):
        return
    database = sqlite_path(settings.tracking_uri)
    if database is None:
        raise BackupError("the backup holds a SQLite registry but this home's is not SQLite")
    copy_sqlite(source / REGISTRY_FILE, database)
    old_root = manifest["artifacts"].get("root")
    if new_root is not None and old_root:
        moved = relocate_artifacts(database, old_root, new_root)
        log.info("registry artifact locations moved %s -> %s (%s rows)", old_root, new_root, moved)


def _digests(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {f.relative_to(folder).as_posix(): _sha256(f) for f in files}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
