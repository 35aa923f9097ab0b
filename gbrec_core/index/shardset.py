"""Separately saved shard folders opened as ONE sharded index.

The ``vector_index`` asset builds each shard in its own Dagster partition, so each
shard is a complete, checksummed index folder of its own (``<root>/shard-<i>``,
holding the books with ``id % shards == i``). A small set manifest,
``<root>/shards.json``, names the shards; its content depends only on the kind and
the shard count, so rebuilding one partition rewrites it identically and it stays
valid. Provenance (model version, vector source, fingerprint of the embedding set)
lives in each shard's own manifest, which is how a shard rebuilt from newer
vectors than its siblings is caught at load instead of silently mixing spaces.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.access.signing import Signer
from gbrec_core.errors import GbrecError, IndexLoadError, InvalidInputError
from gbrec_core.index import persistence, tuning
from gbrec_core.index.base import VectorIndex
from gbrec_core.index.factory import LOCAL_KINDS, SHARD_SET, load_index, make_index
from gbrec_core.index.sharded import ShardedIndex

SET_FORMAT = "gbrec-shard-set"
SET_VERSION = 1


def shard_dir_name(shard: int) -> str:
    return f"shard-{shard}"


def partition_mask(ids: np.ndarray, shard: int, shards: int) -> np.ndarray:
    """Rows of ``ids`` that belong to ``shard`` (``id % shards == shard``)."""
    if shards < 1 or not 0 <= shard < shards:
        raise InvalidInputError(f"shard must be in [0, {shards}), got {shard}")
    mask: np.ndarray = np.asarray(ids, dtype=np.int64) % shards == shard
    return mask


# ---- the set manifest --------------------------------------------------------------------------
def write_shard_set(
    folder: str | Path, *, kind: str, shards: int, signer: Signer | None = None
) -> Path:
    """Write ``folder/shards.json`` atomically (same content for every partition),
    signed into ``shards.sig`` with ``signer``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "format": SET_FORMAT,
        "version": SET_VERSION,
        "kind": kind,
        "shards": shards,
        "paths": [shard_dir_name(i) for i in range(shards)],
        "partitioning": "id % shards",
    }
    tmp = folder / f".{SHARD_SET}.tmp-{uuid.uuid4().hex}"
    persistence.write_signed(tmp, json.dumps(spec, indent=1, sort_keys=True).encode(), signer)
    if signer is not None:
        os.replace(persistence.signature_path(tmp), persistence.signature_path(folder / SHARD_SET))
    os.replace(tmp, folder / SHARD_SET)
    return folder / SHARD_SET


def read_shard_set(folder: str | Path, signer: Signer | None = None) -> dict[str, Any]:
    """The set manifest of ``folder``; ``IndexLoadError`` if absent or malformed,
    ``SignatureError`` (with ``signer``) if unsigned or tampered with."""
    path = Path(folder) / SHARD_SET
    try:
        payload = persistence.read_verified(path, signer, what=f"shard-set manifest {path}")
        spec = json.loads(payload.decode("utf-8"))
    except FileNotFoundError as e:
        raise IndexLoadError(f"{folder} holds no shard set ({SHARD_SET} is missing)") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexLoadError(f"{path} is unreadable or corrupted: {e}") from e
    if not isinstance(spec, dict) or spec.get("format") != SET_FORMAT:
        raise IndexLoadError(f"{path} is not a {SET_FORMAT} manifest")
    if spec.get("version") != SET_VERSION:
        raise IndexLoadError(f"{path}: unsupported shard-set version {spec.get('version')}")
    paths = spec.get("paths")
    if not isinstance(paths, list) or len(paths) != spec.get("shards") or not paths:
        raise IndexLoadError(f"{path}: 'paths' must list one folder per shard")
    return spec


def shard_paths(folder: Path, spec: Mapping[str, Any]) -> list[Path]:
    return [folder / str(name) for name in spec["paths"]]


def check_shard_meta(path: Path, manifest: Mapping[str, Any], shard: int, shards: int) -> None:
    """A shard's recorded position must match where the set manifest puts it."""
    meta = manifest.get("meta", manifest)
    if "shard" in meta and (meta.get("shard"), meta.get("shards")) != (shard, shards):
        raise IndexLoadError(
            f"{path} was built as shard {meta.get('shard')} of {meta.get('shards')}, "
            f"but the set expects shard {shard} of {shards} (stale partition; rebuild it)"
        )


def common_fingerprint(folder: Path, metas: Sequence[Mapping[str, Any]]) -> str | None:
    """The embedding-set fingerprint every shard shares; ``IndexLoadError`` if they differ."""
    found = {m.get("meta", m).get("fingerprint") for m in metas}
    if len(found) > 1:
        raise IndexLoadError(
            f"{folder}: shards were built from different embeddings {sorted(map(str, found))} "
            "(a partition was rebuilt from newer vectors than the others; rebuild them all)"
        )
    value = next(iter(found), None)
    return None if value is None else str(value)


# ---- loading -------------------------------------------------------------------------------------
def load_shards(
    paths: Sequence[str | Path],
    *,
    mmap: bool = True,
    verify: bool = True,
    signer: Signer | None = None,
) -> ShardedIndex:
    """Open separately saved index folders as one :class:`ShardedIndex`.

    Every folder is checksum-verified (``IndexLoadError`` when one is missing,
    corrupted or partial); all must hold the same local kind, dim, metric and
    parameters and disjoint ids. Searches then run on every shard in parallel and
    are merged exactly, as for an index built with ``shards=N``.
    """
    if not paths:
        raise InvalidInputError("load_shards needs at least one shard folder")
    parts: list[ShardedIndex] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise IndexLoadError(f"shard folder {path} is missing")
        part = load_index(path, mmap=mmap, verify=verify, signer=signer)
        if not isinstance(part, ShardedIndex):
            part.close()
            raise IndexLoadError(f"{path} holds a {part.kind} index, which cannot be combined")
        parts.append(part)
    first = parts[0]
    for raw, part in zip(paths, parts, strict=True):
        same = (part.kind, part.dim, part.metric, build_params(part))
        if same != (first.kind, first.dim, first.metric, build_params(first)):
            raise IndexLoadError(
                f"shard {raw} ({part.kind}, dim {part.dim}, {part.metric}, {part.config}) does "
                f"not match {paths[0]} ({first.kind}, dim {first.dim}, {first.metric}, "
                f"{first.config})"
            )
    combined = ShardedIndex(first.shard_cls, first.config, first.dim, first.metric, 1)
    combined.signer = signer
    combined.shards = [shard for part in parts for shard in part.shards]
    ids = np.concatenate([s.ids for s in combined.shards])
    if np.unique(ids).shape[0] != ids.shape[0]:
        raise IndexLoadError("the shard folders share ids; they are not one partitioned set")
    combined.build_seconds = sum(p.build_seconds for p in parts)
    combined.tuning = tuning.combine([p.tuning for p in parts if p.tuning])
    return combined


def build_params(index: ShardedIndex) -> dict[str, Any]:
    """The config without the search-time parameter, which each shard tunes for itself."""
    params = dataclasses.asdict(index.config)
    params.pop(tuning.SEARCH_PARAMS.get(index.kind, ""), None)
    return params


def load_shard_set(
    folder: str | Path, *, mmap: bool = True, verify: bool = True, signer: Signer | None = None
) -> ShardedIndex:
    """Open the shards listed in ``folder/shards.json`` as one index (``load_index`` does this).

    Beyond :func:`load_shards`: each shard must sit at its recorded position and all
    must come from one embedding set; ``index.meta`` then holds their shared
    provenance (model_version, source, fingerprint).
    """
    folder = Path(folder)
    spec = read_shard_set(folder, signer)
    paths = shard_paths(folder, spec)
    metas = []
    for number, path in enumerate(paths):
        if not path.is_dir():
            raise IndexLoadError(f"shard folder {path} is missing")
        manifest = persistence.read_manifest(path, verify=False, signer=signer)
        check_shard_meta(path, manifest, number, spec["shards"])
        metas.append(manifest.get("meta") or {})
    common_fingerprint(folder, metas)
    index = load_shards(paths, mmap=mmap, verify=verify, signer=signer)
    try:
        _check_partitioning(folder, index, spec["shards"])
    except IndexLoadError:
        index.close()
        raise
    shared = {k: v for k, v in metas[0].items() if k not in ("shard", "total")}
    index.meta = {**shared, "path": str(folder), "shards": spec["shards"]}
    return index


def _check_partitioning(folder: Path, index: ShardedIndex, shards: int) -> None:
    for number, shard in enumerate(index.shards):
        if shard.ids.size and np.any(shard.ids % shards != number):
            raise IndexLoadError(f"{folder}: shard {number} holds ids of another partition")


# ---- building ------------------------------------------------------------------------------------
def build_shard(
    folder: str | Path,
    kind: str,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shard: int,
    shards: int,
    meta: Mapping[str, Any] | None = None,
    metric: str = "ip",
    signer: Signer | None = None,
    **params: Any,
) -> VectorIndex:
    """Build and save partition ``shard`` of the set (ids ``% shards == shard``).

    Writes ``folder/shard-<shard>`` atomically and the set manifest (both signed with
    ``signer``); returns the built one-shard index (the caller closes it). ``params``
    go to ``make_index`` (e.g. ``target_recall``: this partition tunes for itself).
    """
    if kind not in LOCAL_KINDS:
        raise InvalidInputError(
            f"a shard set needs a local index kind ({', '.join(LOCAL_KINDS)}), not {kind!r}"
        )
    ids = np.asarray(book_ids, dtype=np.int64)
    mask = partition_mask(ids, shard, shards)
    dim = int(np.shape(vectors)[1])
    index = make_index(kind, dim=dim, metric=metric, signer=signer, **params)
    try:
        index.add(ids[mask], np.asarray(vectors, dtype=np.float32)[mask])
        assert isinstance(index, ShardedIndex)
        index.save(
            Path(folder) / shard_dir_name(shard),
            meta={**dict(meta or {}), "shard": shard, "shards": shards, "total": int(ids.size)},
        )
        write_shard_set(folder, kind=kind, shards=shards, signer=signer)
    except GbrecError:
        index.close()
        raise
    return index


def build_shard_set(
    folder: str | Path,
    kind: str,
    book_ids: np.ndarray,
    vectors: np.ndarray,
    *,
    shards: int,
    meta: Mapping[str, Any] | None = None,
    metric: str = "ip",
    signer: Signer | None = None,
    **params: Any,
) -> ShardedIndex:
    """Build every partition (a full rebuild) and return them opened as one index."""
    for shard in range(shards):
        build_shard(
            folder,
            kind,
            book_ids,
            vectors,
            shard=shard,
            shards=shards,
            meta=meta,
            metric=metric,
            signer=signer,
            **params,
        ).close()
    return load_shard_set(folder, signer=signer)
