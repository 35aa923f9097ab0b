"""``make_index`` and ``load_index``: the one place that knows every kind."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gbrec_core.access.signing import Signer
from gbrec_core.errors import IndexLoadError, InvalidInputError
from gbrec_core.index import persistence
from gbrec_core.index.base import VectorIndex
from gbrec_core.index.exact import ExactConfig, ExactShard
from gbrec_core.index.faiss_backend import (
    FaissFlatConfig,
    FaissFlatShard,
    FaissHNSWConfig,
    FaissHNSWShard,
    FaissIVFConfig,
    FaissIVFPQConfig,
    FaissIVFPQShard,
    FaissIVFShard,
)
from gbrec_core.index.hnswlib_backend import HnswConfig, HnswlibShard
from gbrec_core.index.milvus import MilvusConfig, MilvusIndex
from gbrec_core.index.shard import Shard
from gbrec_core.index.sharded import OnBudget, ShardedIndex, shard_stem

#: The set manifest of a folder of separately saved shards (see ``shardset``).
SHARD_SET = "shards.json"

LOCAL_KINDS: dict[str, tuple[type[Shard], type[Any]]] = {
    "exact": (ExactShard, ExactConfig),
    "faiss-flat": (FaissFlatShard, FaissFlatConfig),
    "faiss-ivf": (FaissIVFShard, FaissIVFConfig),
    "faiss-ivfpq": (FaissIVFPQShard, FaissIVFPQConfig),
    "faiss-hnsw": (FaissHNSWShard, FaissHNSWConfig),
    "hnsw": (HnswlibShard, HnswConfig),
}
KINDS: tuple[str, ...] = (*LOCAL_KINDS, "milvus")


def make_index(
    kind: str,
    dim: int,
    metric: str = "ip",
    shards: int = 1,
    *,
    max_bytes: int | None = None,
    on_budget: OnBudget = "refuse",
    expected_size: int | None = None,
    threads: int | None = None,
    batching: bool | None = None,
    target_recall: float | None = None,
    signer: Signer | None = None,
    **params: Any,
) -> VectorIndex:
    """A new, empty index of ``kind``; ``params`` are the fields of the kind's config.

    ``max_bytes`` is checked on every ``add`` (and now, if ``expected_size`` is given):
    ``on_budget="refuse"`` raises ``IndexBudgetError``, ``"compress"`` builds the
    compressed ``faiss-ivfpq`` kind instead when that fits. ``target_recall``: after
    every add, approximate kinds pick the smallest ``ef_search``/``ef``/``nprobe`` whose
    recall@10 against exact search reaches it (``gbrec_core.index.tuning``); exact kinds
    and Milvus ignore it. ``signer`` signs the manifest when the index is saved.
    """
    if kind == "milvus":
        index: VectorIndex = _milvus(dim, metric, shards, batching, params)
    elif kind in LOCAL_KINDS:
        shard_cls, config_cls = LOCAL_KINDS[kind]
        index = ShardedIndex(
            shard_cls,
            _config(config_cls, kind, params),
            dim,
            metric,
            shards,
            max_bytes=max_bytes,
            on_budget=on_budget,
            threads=threads,
            batching=batching,
            target_recall=target_recall,
        )
        if expected_size is not None:
            index.check_budget(expected_size)
    else:
        raise InvalidInputError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    index.signer = signer
    return index


def _milvus(
    dim: int, metric: str, shards: int, batching: bool | None, params: dict[str, Any]
) -> MilvusIndex:
    config = _config(MilvusConfig, "milvus", params)
    if shards != 1 and "num_shards" not in params:
        config = dataclasses.replace(config, num_shards=shards)
    return MilvusIndex(dim, metric, config, batching=batching)


def load_index(
    path: str | Path, *, mmap: bool = True, verify: bool = True, signer: Signer | None = None
) -> VectorIndex:
    """Open an index folder written by ``save``; ``IndexLoadError`` if it is not sound.

    A folder with a ``shards.json`` set manifest (separately saved shard folders, as
    the ``vector_index`` asset writes them) opens as one sharded index. Checksums of
    every file are verified first. Flat, IVF and exact shards are memory
    mapped when ``mmap`` (the OS pages them in on demand and shares them between
    processes); such an index is read-only. With ``signer`` every manifest must carry
    a valid signature, checked before it is parsed (``SignatureError`` otherwise).
    """
    path = Path(path)
    if (path / SHARD_SET).is_file():
        from gbrec_core.index.shardset import load_shard_set

        return load_shard_set(path, mmap=mmap, verify=verify, signer=signer)
    manifest = persistence.read_manifest(path, verify=verify, signer=signer)
    kind = manifest.get("kind")
    try:
        index: VectorIndex
        if kind == "milvus":
            index = MilvusIndex.from_manifest(manifest)
        elif kind in LOCAL_KINDS:
            index = _load_sharded(path, manifest, LOCAL_KINDS[kind], mmap)
        else:
            raise IndexLoadError(f"{path}: unknown index kind {kind!r}")
    except (KeyError, TypeError, ValueError, InvalidInputError) as e:
        raise IndexLoadError(f"{path}: malformed manifest: {e}") from e
    index.signer = signer
    return index


def _load_sharded(
    path: Path, manifest: dict[str, Any], classes: tuple[type[Shard], type[Any]], mmap: bool
) -> ShardedIndex:
    shard_cls, config_cls = classes
    config = config_cls(**manifest["params"])
    index = ShardedIndex(shard_cls, config, manifest["dim"], manifest["metric"], manifest["shards"])
    index.shards = [
        shard_cls.load(path, shard_stem(n), index.dim, config, mmap)
        for n in range(manifest["shards"])
    ]
    sizes = [len(s) for s in index.shards]
    if sizes != manifest["shard_sizes"]:
        raise IndexLoadError(f"{path}: shard sizes {sizes} differ from the manifest")
    index.build_seconds = float(manifest.get("build_seconds", 0.0))
    index.meta = dict(manifest.get("meta") or {})
    index.tuning = manifest.get("tuning")
    return index


def _config(config_cls: type[Any], kind: str, params: dict[str, Any]) -> Any:
    fields = {f.name for f in dataclasses.fields(config_cls)}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise InvalidInputError(
            f"unknown parameter(s) {unknown} for index kind {kind!r}; valid: {sorted(fields)}"
        )
    return config_cls(**params)
