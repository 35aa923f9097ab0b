"""A model bundle: the directory a registry version holds, with everything serving needs.

Layout::

    bundle.json    format, format_version, model name, per-file SHA-256, overall checksum
    model/         Recommender.save() output (includes the seen-items matrix and popularity)
    vectors.npz    item embeddings (book_ids, vectors) when the model has them
    fallback.npz   popularity ranking (book_ids, scores), readable without the model class

The overall checksum is also stored as a tag on the registry version, so a bundle
whose manifest was rewritten together with its files is still caught.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.errors import ModelLoadError
from gbrec_core.models import ItemVectors, Recommender, load_recommender
from gbrec_core.models.persistence import read_versioned_json

BUNDLE_FORMAT = "gbrec-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "bundle.json"
_CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class ModelBundle:
    """A loaded, verified bundle. ``fallback_ids`` are sorted best first."""

    model: Recommender
    item_vectors: ItemVectors | None
    fallback_ids: np.ndarray
    fallback_scores: np.ndarray
    checksum: str
    nbytes: int
    path: Path

    @property
    def model_name(self) -> str:
        return self.model.name


def write_bundle(model: Recommender, path: Path) -> str:
    """Write ``model`` as a bundle under ``path`` (created); returns the checksum."""
    path.mkdir(parents=True, exist_ok=True)
    model.save(path / "model")
    vectors = model.item_vectors()
    if vectors is not None:
        np.savez(path / "vectors.npz", book_ids=vectors.book_ids, vectors=vectors.vectors)
    ids, scores = _popularity_ranking(model)
    np.savez(path / "fallback.npz", book_ids=ids, scores=scores)
    files = _file_digests(path)
    checksum = _combine(files)
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "model": model.name,
        "files": files,
        "checksum": checksum,
        "created_at": datetime.now(UTC).isoformat(),
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return checksum


def read_bundle(path: Path, expected_checksum: str | None = None) -> ModelBundle:
    """Verify every file against the manifest (and ``expected_checksum``), then load."""
    manifest = _read_manifest(path)
    files: dict[str, str] = dict(manifest.get("files", {}))
    actual = _file_digests(path)
    if actual != files:
        bad = sorted(k for k in set(files) | set(actual) if files.get(k) != actual.get(k))
        raise ModelLoadError(f"bundle {path} failed verification: {', '.join(bad)} differ")
    checksum = _combine(actual)
    if checksum != manifest.get("checksum"):
        raise ModelLoadError(f"bundle {path}: manifest checksum does not match its files")
    if expected_checksum is not None and checksum != expected_checksum:
        raise ModelLoadError(
            f"bundle {path}: checksum {checksum[:12]} differs from the registry's "
            f"{expected_checksum[:12]}"
        )
    model = load_recommender(path / "model")
    fallback_ids, fallback_scores = read_fallback(path)
    return ModelBundle(
        model=model,
        item_vectors=_read_vectors(path / "vectors.npz"),
        fallback_ids=fallback_ids,
        fallback_scores=fallback_scores,
        checksum=checksum,
        nbytes=sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
        path=path,
    )


def read_fallback(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Popularity ranking of a bundle without loading its model (for the last resort)."""
    arrays = _read_npz(path / "fallback.npz")
    return arrays["book_ids"], arrays["scores"]


def _popularity_ranking(model: Recommender) -> tuple[np.ndarray, np.ndarray]:
    if model.items is None or model.popularity is None:
        raise ModelLoadError(f"{type(model).__name__} is not fitted; cannot bundle it")
    order = np.argsort(-model.popularity, kind="stable")
    return model.items.ids[order].astype(np.int64), model.popularity[order].astype(np.float32)


def _read_manifest(path: Path) -> dict[str, Any]:
    return read_versioned_json(
        path / MANIFEST, fmt=BUNDLE_FORMAT, version=BUNDLE_FORMAT_VERSION, what="gbrec bundle"
    )


def _read_vectors(path: Path) -> ItemVectors | None:
    if not path.exists():
        return None
    arrays = _read_npz(path)
    return ItemVectors(book_ids=arrays["book_ids"], vectors=arrays["vectors"])


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelLoadError(f"{path} is corrupted: {e}") from e


def _file_digests(path: Path) -> dict[str, str]:
    digests = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name != MANIFEST):
        digest = hashlib.sha256()
        with file.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        digests[file.relative_to(path).as_posix()] = digest.hexdigest()
    return digests


def _combine(files: dict[str, str]) -> str:
    digest = hashlib.sha256(f"{BUNDLE_FORMAT}-v{BUNDLE_FORMAT_VERSION}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}:{files[name]}\n".encode())
    return digest.hexdigest()
