"""Versioned, checksummed on-disk format shared by every model.

A saved model is a directory holding ``manifest.json`` (format name and version,
model name, config, per-array SHA-256) and ``arrays.npz``. Writes go to a temporary
directory that is renamed into place, so a reader never sees half a model.

Version 2 stores the hybrid's nested part configs as typed fields (``ease``, ``als``,
``content``); version 1 held them as ``cf_config`` / ``content_config`` dicts. Version
1 models still load: their config is upgraded on read (:func:`upgrade_config`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.errors import ModelLoadError

FORMAT = "gbrec-model"
FORMAT_VERSION = 2
# Older versions this reader still understands (their configs are upgraded on read).
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"


def array_digest(array: np.ndarray) -> str:
    contiguous = np.ascontiguousarray(array)
    digest = hashlib.sha256(str((contiguous.dtype.str, contiguous.shape)).encode())
    digest.update(contiguous.tobytes())
    return digest.hexdigest()


def write_model(
    path: Path, name: str, config: dict[str, Any], arrays: dict[str, np.ndarray]
) -> Path:
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        np.savez(staging / ARRAYS, **arrays)  # type: ignore[arg-type]
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": name,
            "config": config,
            "checksums": {key: array_digest(value) for key, value in arrays.items()},
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    return read_versioned_json(
        path / MANIFEST,
        fmt=FORMAT,
        version=FORMAT_VERSION,
        what="saved gbrec model",
        older=READABLE_VERSIONS,
    )


def read_versioned_json(
    file: Path, *, fmt: str, version: int, what: str, older: Collection[int] = ()
) -> dict[str, Any]:
    """A JSON manifest whose ``format`` must match and whose ``format_version`` is
    ``version`` or one of ``older``; else ModelLoadError."""
    try:
        manifest = json.loads(file.read_text())
    except FileNotFoundError as e:
        raise ModelLoadError(f"{file.parent} is not a {what} (no {file.name})") from e
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{file} is unreadable: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        raise ModelLoadError(f"{file.parent} holds a foreign file, not a {fmt}")
    if manifest.get("format_version") != version and manifest.get("format_version") not in older:
        raise ModelLoadError(
            f"{file.parent} has format version {manifest.get('format_version')}, "
            f"this gbrec reads version {version}"
        )
    return manifest


def read_model(
    path: Path, expected: str | None = None
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    manifest = read_manifest(path)
    name = str(manifest["model"])
    if expected is not None and name != expected:
        raise ModelLoadError(f"{path} holds a '{name}' model, not '{expected}'")
    try:
        with np.load(path / ARRAYS, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelLoadError(f"{path / ARRAYS} is corrupted: {e}") from e
    checksums: dict[str, str] = manifest.get("checksums", {})
    if set(checksums) != set(arrays):
        raise ModelLoadError(f"{path} is partial: arrays do not match the manifest")
    for key, expected_digest in checksums.items():
        if array_digest(arrays[key]) != expected_digest:
            raise ModelLoadError(f"{path}: checksum mismatch for array '{key}'")
    config = manifest.get("config", {})
    if not isinstance(config, dict):
        raise ModelLoadError(f"{path}: the manifest's config is not a JSON object")
    return name, upgrade_config(name, int(manifest["format_version"]), config), arrays


def upgrade_config(name: str, version: int, config: dict[str, Any]) -> dict[str, Any]:
    """A config saved in format ``version`` as the current format's keywords.

    Version 1 hybrids: ``cf_config`` becomes the ``cf`` family's config (``ease`` or
    ``als``), ``content_config`` becomes ``content``. A version-1 EASE ``cf_config``
    without ``l2`` (lambda searched, other knobs set) becomes a fixed EASE config: the
    loaded model scores exactly as saved; only a refit would skip the lambda search.
    """
    if version >= 2 or name != "hybrid":
        return dict(config)
    upgraded = {k: v for k, v in config.items() if k not in ("cf_config", "content_config")}
    cf_config = config.get("cf_config") or {}
    if cf_config:
        upgraded[str(config.get("cf", "ease"))] = cf_config
    upgraded["content"] = config.get("content_config") or {}
    return upgraded
