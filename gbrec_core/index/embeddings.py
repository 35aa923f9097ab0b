"""Item embeddings stored beside a sharded index: the vectors it was built from.

An index answers "which books are near this vector"; similar-book search also needs
"the vector of book b", and after a corrupted index shard the service still needs
every vector to search exactly while it rebuilds. So the pipeline stores the
embeddings as checksummed ``.npy`` files, partitioned like the index
(``embeddings/shard-<i>`` holds the books with ``book_id % shards == i``), each
partition written only by its own shard build. A fingerprint of the whole set ties
the partitions together and to the index shards built from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.access.signing import Signer
from gbrec_core.errors import IndexLoadError, InvalidInputError
from gbrec_core.index import persistence, shardset

EMBEDDINGS_FORMAT = "gbrec-embeddings"
#: The folder, beside the kinds' index folders of a model version, holding the vectors.
EMBEDDINGS_DIR = "embeddings"
IDS_FILE = "book_ids.npy"
VECTORS_FILE = "vectors.npy"


@dataclass(frozen=True)
class StoredEmbeddings:
    """Book ids (sorted, int64) and their float32 vectors, with provenance."""

    book_ids: np.ndarray
    vectors: np.ndarray
    fingerprint: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.book_ids.shape[0])

    @property
    def model_version(self) -> str | None:
        value = self.meta.get("model_version")
        return None if value is None else str(value)

    @property
    def source(self) -> str | None:
        value = self.meta.get("source")
        return None if value is None else str(value)

    def vector_of(self, book_id: int) -> np.ndarray | None:
        """The (1, dim) vector of ``book_id``, or None when it is not stored."""
        row = int(np.searchsorted(self.book_ids, book_id))
        if row >= len(self) or int(self.book_ids[row]) != book_id:
            return None
        return self.vectors[row : row + 1]


def sorted_by_id(book_ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validated int64 ids in ascending order and their float32 rows."""
    ids = np.asarray(book_ids, dtype=np.int64).ravel()
    vecs = np.asarray(vectors, dtype=np.float32)
    if vecs.ndim != 2 or vecs.shape[0] != ids.shape[0]:
        raise InvalidInputError(f"{ids.shape[0]} ids for vectors of shape {vecs.shape}")
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    if ids.size and np.any(ids[1:] == ids[:-1]):
        raise InvalidInputError("book ids of the embeddings must be unique")
    return np.ascontiguousarray(ids), np.ascontiguousarray(vecs[order])


def fingerprint(book_ids: np.ndarray, vectors: np.ndarray) -> str:
    """sha256 of the whole embedding set (ids and vectors in id order)."""
    ids, vecs = sorted_by_id(book_ids, vectors)
    digest = hashlib.sha256(f"{ids.shape[0]}x{vecs.shape[1]}".encode())
    digest.update(ids.tobytes())
    digest.update(vecs.tobytes())
    return digest.hexdigest()


def save_embeddings_shard(
    folder: str | Path,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shard: int,
    shards: int,
    meta: Mapping[str, Any] | None = None,
    fingerprint_: str | None = None,
    signer: Signer | None = None,
) -> Path:
    """Write partition ``shard`` of the full set (``book_ids``, ``vectors``) under ``folder``.

    Only that partition's rows are written, to ``folder/shard-<shard>``, so one shard
    rebuild never touches another's files; the set manifest is (re)written too.
    """
    ids, vecs = sorted_by_id(book_ids, vectors)
    fp = fingerprint_ or fingerprint(ids, vecs)
    mask = shardset.partition_mask(ids, shard, shards)
    info = {
        **dict(meta or {}),
        "fingerprint": fp,
        "shard": shard,
        "shards": shards,
        "total": int(ids.shape[0]),
    }

    def write(tmp: Path) -> dict[str, Any]:
        np.save(tmp / IDS_FILE, ids[mask])
        np.save(tmp / VECTORS_FILE, vecs[mask])
        return {"kind": "embeddings", "dim": int(vecs.shape[1]), "count": int(mask.sum()), **info}

    folder = Path(folder)
    path = persistence.write_index_dir(
        folder / shardset.shard_dir_name(shard), write, fmt=EMBEDDINGS_FORMAT, signer=signer
    )
    shardset.write_shard_set(folder, kind="embeddings", shards=shards, signer=signer)
    return path


def save_embeddings(
    folder: str | Path,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shards: int = 1,
    meta: Mapping[str, Any] | None = None,
    signer: Signer | None = None,
) -> Path:
    """Write every partition of the set (what a full rebuild does)."""
    fp = fingerprint(book_ids, vectors)
    for shard in range(shards):
        save_embeddings_shard(
            folder,
            book_ids,
            vectors,
            shard=shard,
            shards=shards,
            meta=meta,
            fingerprint_=fp,
            signer=signer,
        )
    return Path(folder)


def load_embeddings(
    folder: str | Path, *, verify: bool = True, signer: Signer | None = None
) -> StoredEmbeddings:
    """Every partition, checksum-verified and checked to belong to one set.

    ``IndexLoadError`` when a partition is missing, corrupted, or from another set
    (e.g. one shard re-materialised from newer vectors than the others);
    ``SignatureError`` with ``signer`` when a manifest is unsigned or tampered with.
    """
    folder = Path(folder)
    spec = shardset.read_shard_set(folder, signer)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    metas: list[dict[str, Any]] = []
    for number, path in enumerate(shardset.shard_paths(folder, spec)):
        if not path.is_dir():
            raise IndexLoadError(f"embeddings {folder}: partition {path.name} is missing")
        manifest = persistence.read_manifest(
            path, verify=verify, fmt=EMBEDDINGS_FORMAT, signer=signer
        )
        shardset.check_shard_meta(path, manifest, number, spec["shards"])
        try:
            ids = np.load(path / IDS_FILE, allow_pickle=False)
            vecs = np.load(path / VECTORS_FILE, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise IndexLoadError(f"cannot read embeddings {path}: {e}") from e
        parts.append((ids, vecs))
        metas.append(manifest)
    fp = shardset.common_fingerprint(folder, metas)
    ids, vecs = sorted_by_id(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    )
    if fp is not None and fingerprint(ids, vecs) != fp:
        raise IndexLoadError(f"embeddings {folder}: the partitions do not add up to set {fp[:12]}")
    keep = ("model_version", "source", "dim", "total")
    meta = {k: metas[0][k] for k in keep if metas and k in metas[0]}
    return StoredEmbeddings(ids, vecs, fp or fingerprint(ids, vecs), meta)
