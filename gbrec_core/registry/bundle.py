"""A model bundle: the directory a registry version holds, with everything serving needs.

Layout::

    bundle.json    format, format_version, model name, per-file SHA-256, overall checksum
    bundle.sig     HMAC-SHA256 of bundle.json's exact bytes (``GBREC_SIGNING_KEY``)
    model/         Recommender.save() output (includes the seen-items matrix and popularity)
    vectors.npz    item embeddings (book_ids, vectors) when the model has them
    fallback.npz   popularity ranking (book_ids, scores), readable without the model class

Checksums alone prove nothing against someone who can write the artifact store (they
can rewrite the manifest too), so the manifest is signed with a key kept out of the
store. Reading goes signature -> manifest -> file digests -> arrays: nothing of a bundle
is parsed before its manifest's signature verified. The overall checksum is also a tag
on the registry version, so an old, validly signed bundle swapped in for another is
caught as well.
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

from gbrec_core.access.signing import Signer
from gbrec_core.errors import ModelLoadError
from gbrec_core.models import ItemVectors, Recommender, load_recommender

BUNDLE_FORMAT = "gbrec-bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST = "bundle.json"
SIGNATURE = "bundle.sig"
_NOT_DIGESTED = frozenset({MANIFEST, SIGNATURE})
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


def write_bundle(model: Recommender, path: Path, signer: Signer) -> str:
    """Write ``model`` as a signed bundle under ``path`` (created); returns the checksum."""
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
    payload = json.dumps(manifest, indent=2, sort_keys=True).encode()
    (path / MANIFEST).write_bytes(payload)
    (path / SIGNATURE).write_text(signer.sign(payload))
    return checksum


def verify_bundle(path: Path, signer: Signer, expected_checksum: str | None = None) -> str:
    """Check the manifest's signature, then every file against it (and
    ``expected_checksum``); returns the checksum. ``SignatureError`` /
    ``ModelLoadError`` name what failed."""
    manifest = read_signed_manifest(path, signer)
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
    return checksum


def read_bundle(path: Path, signer: Signer, expected_checksum: str | None = None) -> ModelBundle:
    """Verify the bundle (:func:`verify_bundle`), then load it."""
    checksum = verify_bundle(path, signer, expected_checksum)
    model = load_recommender(path / "model")
    fallback_ids, fallback_scores = _read_fallback_arrays(path)
    return ModelBundle(
        model=model,
        item_vectors=_read_vectors(path / "vectors.npz"),
        fallback_ids=fallback_ids,
        fallback_scores=fallback_scores,
        checksum=checksum,
        nbytes=sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
        path=path,
    )


def read_fallback(path: Path, signer: Signer) -> tuple[np.ndarray, np.ndarray]:
    """Popularity ranking of a bundle without loading its model (for the last resort):
    the signed manifest and ``fallback.npz``'s digest are checked, not the other files."""
    files = read_signed_manifest(path, signer).get("files", {})
    if _digest(path / "fallback.npz") != files.get("fallback.npz"):
        raise ModelLoadError(f"bundle {path} failed verification: fallback.npz differs")
    return _read_fallback_arrays(path)


def read_signed_manifest(path: Path, signer: Signer) -> dict[str, Any]:
    """The manifest of the bundle at ``path``, parsed only after its signature verified."""
    try:
        payload = (path / MANIFEST).read_bytes()
    except OSError as e:
        raise ModelLoadError(f"{path} is not a gbrec bundle (no {MANIFEST})") from e
    try:
        signature: str | None = (path / SIGNATURE).read_bytes().decode(errors="replace")
    except OSError:
        signature = None
    signer.verify(payload, signature, what="model bundle")
    return _parse_manifest(path, payload)


def _read_fallback_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = _read_npz(path / "fallback.npz")
    return arrays["book_ids"], arrays["scores"]


def _popularity_ranking(model: Recommender) -> tuple[np.ndarray, np.ndarray]:
    if model.items is None or model.popularity is None:
        raise ModelLoadError(f"{type(model).__name__} is not fitted; cannot bundle it")
    order = np.argsort(-model.popularity, kind="stable")
    return model.items.ids[order].astype(np.int64), model.popularity[order].astype(np.float32)


def _parse_manifest(path: Path, payload: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(payload)
    except ValueError as e:
        raise ModelLoadError(f"{path / MANIFEST} is unreadable: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise ModelLoadError(f"{path} holds a foreign file, not a {BUNDLE_FORMAT}")
    if manifest.get("format_version") != BUNDLE_FORMAT_VERSION:
        raise ModelLoadError(
            f"{path} has bundle format version {manifest.get('format_version')}, "
            f"this gbrec reads version {BUNDLE_FORMAT_VERSION}"
        )
    return manifest


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
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return {
        f.relative_to(path).as_posix(): _digest(f)
        for f in files
        if f.relative_to(path).as_posix() not in _NOT_DIGESTED
    }


def _digest(file: Path) -> str:
    digest = hashlib.sha256()
    try:
        with file.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as e:
        raise ModelLoadError(f"{file} is unreadable: {e}") from e
    return digest.hexdigest()


def _combine(files: dict[str, str]) -> str:
    digest = hashlib.sha256(f"{BUNDLE_FORMAT}-v{BUNDLE_FORMAT_VERSION}\n".encode())
    for name in sorted(files):
        digest.update(f"{name}:{files[name]}\n".encode())
    return digest.hexdigest()
