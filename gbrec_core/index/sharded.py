"""Local indices split into N balanced shards, searched in parallel and merged exactly."""

from __future__ import annotations

import dataclasses
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gbrec_core.errors import IndexBudgetError, InvalidInputError
from gbrec_core.index import persistence, tuning
from gbrec_core.index.base import VectorIndex
from gbrec_core.index.latency import LatencyRecorder
from gbrec_core.index.shard import Shard

log = logging.getLogger(__name__)

OnBudget = Literal["refuse", "compress"]
#: Up to this many queries a search is "single-query serving": one thread per shard,
#: since OpenMP start-up costs more than it saves and callers bring their own concurrency.
SMALL_BATCH = 8


class ShardedIndex(VectorIndex):
    """``shards`` backend shards of one kind; adds go round-robin so sizes differ by <= 1."""

    def __init__(
        self,
        shard_cls: type[Shard],
        config: Any,
        dim: int,
        metric: str,
        shards: int = 1,
        *,
        max_bytes: int | None = None,
        on_budget: OnBudget = "refuse",
        threads: int | None = None,
        batching: bool | None = None,
        target_recall: float | None = None,
    ) -> None:
        if shards < 1:
            raise InvalidInputError(f"shards must be >= 1, got {shards}")
        if on_budget not in ("refuse", "compress"):
            raise InvalidInputError(f"on_budget must be 'refuse' or 'compress', not {on_budget!r}")
        self.batching_default = shard_cls.kind in BATCHING_PAYS
        super().__init__(shard_cls.kind, dim, metric, batching=batching)
        self.shard_cls = shard_cls
        self.config = config
        self.max_bytes = max_bytes
        self.on_budget: OnBudget = on_budget
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.shards: list[Shard] = [shard_cls(dim, config) for _ in range(shards)]
        #: Caller-defined provenance saved in (and loaded from) the manifest, e.g. the
        #: model version and vector source of a pipeline-built shard.
        self.meta: dict[str, Any] = {}
        #: Recall@10 the search parameter is tuned for after every add (None: keep it).
        self.target_recall = tuning.checked_target(target_recall)
        #: The last tuning run (``tuning.Tuning.as_dict``), saved in the manifest.
        self.tuning: dict[str, Any] | None = None
        self._shard_pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return sum(len(s) for s in self.shards)

    # ---- add ----------------------------------------------------------------------------
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = np.concatenate([s.ids for s in self.shards])
        clash = np.isin(ids, existing)
        if clash.any():
            raise InvalidInputError(f"ids already in the index, e.g. {ids[clash][:5].tolist()}")
        self.check_budget(len(self) + ids.shape[0])
        targets = (len(self) + np.arange(ids.shape[0])) % len(self.shards)
        for number, shard in enumerate(self.shards):
            rows = np.flatnonzero(targets == number)
            if rows.size:
                shard.add(ids[rows], np.ascontiguousarray(vectors[rows]))
        if self.target_recall is not None and self.tunable:
            whole = len(self) == ids.shape[0]
            self.tune(self.target_recall, *((ids, vectors) if whole else self.stored_vectors()))

    # ---- tuning -------------------------------------------------------------------------
    @property
    def tunable(self) -> bool:
        """An approximate kind holding more vectors than one answer (else it is exact)."""
        return self.kind in tuning.SEARCH_PARAMS and len(self) > tuning.K

    def tune(
        self, target: float, ids: np.ndarray | None = None, vectors: np.ndarray | None = None
    ) -> dict[str, Any]:
        """Pick the cheapest search parameter reaching recall@10 ``target`` (``tuning``).

        ``ids``/``vectors`` must be the whole content; by default they are read back
        from the shards. Tuning searches do not count in the latency statistics.
        """
        if self.kind not in tuning.SEARCH_PARAMS:
            raise InvalidInputError(f"the {self.kind} kind is exact; it has nothing to tune")
        if ids is None or vectors is None:
            ids, vectors = self.stored_vectors()
        result = tuning.tune(self, ids, vectors, target)
        self._latency = LatencyRecorder()
        self.tuning = result.as_dict()
        return self.tuning

    def stored_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every id and its (normalised, for cosine) vector, read back from the shards."""
        ids = np.concatenate([s.ids for s in self.shards])
        return ids, np.concatenate([s.stored_vectors() for s in self.shards if len(s)])

    def set_search_param(self, name: str, value: int) -> None:
        self.config = dataclasses.replace(self.config, **{name: value})
        for shard in self.shards:
            shard.set_search_param(name, value)

    def max_lists(self) -> int:
        """The largest IVF list count over the shards (the ``nprobe`` ceiling)."""
        return max((int(getattr(s, "lists", lambda: 1)()) for s in self.shards), default=1)

    def estimate_bytes(self, n: int) -> int:
        per_shard = -(-n // len(self.shards))
        return len(self.shards) * self.shard_cls.estimate_bytes(per_shard, self.dim, self.config)

    def check_budget(self, n: int) -> None:
        """Refuse, or switch an empty index to the compressed kind, if ``n`` would not fit."""
        if self.max_bytes is None:
            return
        needed = self.estimate_bytes(n)
        if needed <= self.max_bytes:
            return
        if self.on_budget == "compress" and len(self) == 0 and self.kind != "faiss-ivfpq":
            self._switch_to_compressed(n)
            return
        raise IndexBudgetError(
            f"a {self.kind} index of {n:,} x {self.dim}-d vectors needs an estimated "
            f"{needed:,} bytes ({needed / 2**20:.1f} MiB), over max_bytes={self.max_bytes:,} "
            f"({self.max_bytes / 2**20:.1f} MiB); raise max_bytes, add shards on other "
            "machines, or pass on_budget='compress' to build the compressed faiss-ivfpq kind"
        )

    def _switch_to_compressed(self, n: int) -> None:
        from gbrec_core.index.faiss_backend import FaissIVFPQConfig, FaissIVFPQShard

        for config in (FaissIVFPQConfig(), FaissIVFPQConfig(refine="none")):
            self.shard_cls, self.config, self.kind = FaissIVFPQShard, config, "faiss-ivfpq"
            if self.estimate_bytes(n) <= (self.max_bytes or 0):
                log.warning("memory budget: building faiss-ivfpq (%s) instead", config)
                self.shards = [FaissIVFPQShard(self.dim, config) for _ in self.shards]
                return
        self.check_budget(n)

    # ---- search -------------------------------------------------------------------------
    def _search(self, queries: np.ndarray, k: int, **opts: Any) -> tuple[np.ndarray, np.ndarray]:
        nq = queries.shape[0]
        if len(self.shards) == 1:
            return self.shards[0].search(queries, k, self._threads(nq, 1))
        threads = self._threads(nq, len(self.shards))
        parts = list(
            self.shard_pool.map(lambda shard: shard.search(queries, k, threads), self.shards)
        )
        return merge_top_k(parts, k)

    def _threads(self, nq: int, shards: int) -> int:
        return 1 if nq <= SMALL_BATCH else max(1, self.threads // shards)

    @property
    def shard_pool(self) -> ThreadPoolExecutor:
        if self._shard_pool is None:
            self._shard_pool = ThreadPoolExecutor(len(self.shards), thread_name_prefix="shard")
        return self._shard_pool

    def close(self) -> None:
        super().close()
        if self._shard_pool is not None:
            self._shard_pool.shutdown(wait=False)
            self._shard_pool = None

    # ---- persistence and stats ------------------------------------------------------------
    def save(self, path: str | Path, meta: dict[str, Any] | None = None) -> Path:
        """Write the index folder; ``meta`` (JSON-able) is kept in the manifest as ``meta``."""
        if meta is not None:
            self.meta = dict(meta)

        def write(folder: Path) -> dict[str, Any]:
            for number, shard in enumerate(self.shards):
                shard.save(folder, shard_stem(number))
            return {
                "kind": self.kind,
                "dim": self.dim,
                "metric": self.metric,
                "shards": len(self.shards),
                "shard_sizes": [len(s) for s in self.shards],
                "params": dataclasses.asdict(self.config),
                "ids": {
                    "count": len(self),
                    "files": [f"{shard_stem(i)}.ids.npy" for i in range(len(self.shards))],
                },
                "build_seconds": self.build_seconds,
                "meta": self.meta,
                "tuning": self.tuning,
            }

        return persistence.write_index_dir(Path(path), write, signer=self.signer)

    def _backend_stats(self) -> dict[str, Any]:
        return {
            "shards": len(self.shards),
            "shard_sizes": [len(s) for s in self.shards],
            "bytes": sum(s.nbytes() for s in self.shards),
            "huge_page_bytes": sum(s.huge_page_bytes for s in self.shards),
            "params": dataclasses.asdict(self.config),
            "healthy": True,
            **({"meta": self.meta} if self.meta else {}),
            **({"tuning": self.tuning} if self.tuning else {}),
        }


def shard_stem(number: int) -> str:
    return f"shard-{number:03d}"


def merge_top_k(
    parts: list[tuple[np.ndarray, np.ndarray]], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact merge of per-shard top-k lists: the global top-k is among their union."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    scores = np.concatenate([p[1] for p in parts], axis=1)
    # Ties broken by lower id, like the exact shard, so sharding never changes results.
    order = np.lexsort((ids, -scores), axis=1)[:, :k]
    return np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)


#: Kinds whose concurrent single queries are micro-batched by default (docs/index.md).
#: At GoodBooks size (10k) it paid 1.3x-17x on every kind; at 1M exact it was neutral.
BATCHING_PAYS: frozenset[str] = frozenset(
    {"exact", "faiss-flat", "faiss-ivf", "faiss-ivfpq", "faiss-hnsw", "hnsw"}
)
