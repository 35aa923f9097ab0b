"""The ``VectorIndex`` interface and the search semantics every backend shares.

Backends implement ``_add`` and ``_search`` on validated float32 arrays; this class
owns the rest: input checks, cosine normalisation, exclusions by over-fetching,
``-1`` / ``-inf`` padding, latency accounting and the async entry points.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gbrec_core.access.signing import Signer
from gbrec_core.errors import InvalidInputError
from gbrec_core.index.batching import MicroBatcher
from gbrec_core.index.latency import LatencyRecorder

Metric = Literal["ip", "cosine"]
METRICS: tuple[str, ...] = ("ip", "cosine")
Exclude = Sequence[Iterable[int] | np.ndarray | None] | None
PAD_ID = -1
PAD_SCORE = -np.inf


class VectorIndex(ABC):
    """Top-k inner-product (or cosine) search over vectors keyed by int64 ids."""

    #: Whether concurrent single queries of ``asearch`` are micro-batched by default
    #: (set per backend from the measurements in docs/index.md).
    batching_default: bool = False

    def __init__(self, kind: str, dim: int, metric: str, *, batching: bool | None = None) -> None:
        if dim < 1:
            raise InvalidInputError(f"dim must be >= 1, got {dim}")
        if metric not in METRICS:
            raise InvalidInputError(f"metric must be one of {METRICS}, got {metric!r}")
        self.kind = kind
        self.dim = int(dim)
        self.metric: Metric = metric  # type: ignore[assignment]
        self.batching = self.batching_default if batching is None else batching
        self.build_seconds = 0.0
        #: Signs the manifest on ``save`` (None: unsigned, for library use).
        self.signer: Signer | None = None
        self._latency = LatencyRecorder()
        self._executor: ThreadPoolExecutor | None = None
        self._batchers: dict[asyncio.AbstractEventLoop, MicroBatcher] = {}

    # ---- what a backend implements ----------------------------------------------------
    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add validated ids (int64, unique) and vectors (float32, C-contiguous)."""

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, **opts: Any) -> tuple[np.ndarray, np.ndarray]:
        """(nq, k) ids and scores, best first, padded with -1 / -inf; 1 <= k <= len."""

    @abstractmethod
    def save(self, path: str | Path) -> Path:
        """Write the index folder (manifest + files) atomically."""

    @abstractmethod
    def _backend_stats(self) -> dict[str, Any]:
        """shards, shard_sizes, bytes, health and backend parameters."""

    # ---- public API ---------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` (n, dim) under unique int64 ``ids``."""
        ids_arr = np.ascontiguousarray(np.asarray(ids).ravel(), dtype=np.int64)
        vecs = self._as_matrix(vectors, "vectors")
        if ids_arr.shape[0] != vecs.shape[0]:
            raise InvalidInputError(f"{ids_arr.shape[0]} ids for {vecs.shape[0]} vectors")
        if np.any(ids_arr < 0):
            raise InvalidInputError("ids must be >= 0 (-1 is the padding id)")
        if np.unique(ids_arr).shape[0] != ids_arr.shape[0]:
            raise InvalidInputError("ids must be unique within one add() call")
        if ids_arr.shape[0] == 0:
            return
        start = time.perf_counter()
        self._add(ids_arr, vecs)
        self.build_seconds += time.perf_counter() - start

    def search(
        self, queries: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` ids and scores per query, shape (nq, k), best first.

        ``exclude`` holds, per query, ids to drop (e.g. books already read); the index
        over-fetches so that ``k`` results remain when the catalogue allows. Missing
        slots have id ``-1`` and score ``-inf``.
        """
        return self._search_impl(queries, k, exclude)

    def _search_impl(
        self, queries: np.ndarray, k: int, exclude: Exclude, **opts: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        start = time.perf_counter()
        q = self._as_matrix(queries, "queries")
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}")
        drops = _normalise_exclude(exclude, q.shape[0])
        extra = max((d.shape[0] for d in drops), default=0)
        fetch = min(k + extra, len(self))
        if fetch == 0:
            ids, scores = _padded(q.shape[0], k)
        else:
            ids, scores = self._search(q, fetch, **opts)
            if extra:
                ids, scores = _drop(ids, scores, drops)
            ids, scores = _fit_to_k(ids, scores, k)
        self._latency.record(time.perf_counter() - start)
        return ids, scores

    async def asearch(
        self, queries: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` in a worker thread, micro-batched for single queries if enabled."""
        loop = asyncio.get_running_loop()
        q = np.asarray(queries, dtype=np.float32)
        if self.batching and (q.ndim == 1 or q.shape[0] == 1):
            drop = None if exclude is None else exclude[0]
            return await self._batcher(loop).submit(q.reshape(1, -1), k, drop)
        return await loop.run_in_executor(self.executor, partial(self.search, q, k, exclude))

    def stats(self) -> dict[str, Any]:
        """Size, shards, memory, build time, rolling latency and backend health."""
        return {
            "kind": self.kind,
            "metric": self.metric,
            "dim": self.dim,
            "vectors": len(self),
            "build_seconds": self.build_seconds,
            "searches": self._latency.count,
            "latency": self._latency.percentiles_ms(),
            "batching": self.batching,
            **self._backend_stats(),
        }

    @property
    def executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            workers = max(2, os.cpu_count() or 2)
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"gbrec-{self.kind}")
        return self._executor

    def close(self) -> None:
        """Release worker threads (and connections, for remote backends)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    # ---- helpers ------------------------------------------------------------------------
    def _as_matrix(self, values: np.ndarray, name: str) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != self.dim:
            raise InvalidInputError(f"{name} must have shape (n, {self.dim}), got {arr.shape}")
        if not _all_finite(arr):
            raise InvalidInputError(f"{name} contain NaN or infinite values")
        if self.metric == "cosine":
            norms = np.linalg.norm(arr, axis=1, keepdims=True)
            arr = (arr / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        return np.ascontiguousarray(arr, dtype=np.float32)

    def _batcher(self, loop: asyncio.AbstractEventLoop) -> MicroBatcher:
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = MicroBatcher(self.search, self.executor, loop)
            self._batchers = {lp: b for lp, b in self._batchers.items() if not lp.is_closed()}
            self._batchers[loop] = batcher
        return batcher


def _all_finite(arr: np.ndarray) -> bool:
    """Whether every entry is finite. A finite sum of squares proves it (NaN and inf
    propagate); one BLAS dot is the cheapest such check on the single-query path
    (a ufunc reduction cost 2-3x more next to a 1M-vector graph walk, which evicts
    numpy's working set). Only squares that overflowed need the entry-wise test."""
    return math.isfinite(np.vdot(arr, arr)) or bool(np.isfinite(arr).all())


def _normalise_exclude(exclude: Exclude, nq: int) -> list[np.ndarray]:
    if exclude is None:
        return []
    if len(exclude) != nq:
        raise InvalidInputError(f"exclude has {len(exclude)} entries for {nq} queries")
    return [
        np.empty(0, np.int64)
        if e is None
        else np.fromiter(e, dtype=np.int64)
        if not isinstance(e, np.ndarray)
        else e.astype(np.int64).ravel()
        for e in exclude
    ]


def _drop(
    ids: np.ndarray, scores: np.ndarray, drops: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Remove excluded ids per row, shifting the survivors left and padding the tail."""
    out_ids, out_scores = _padded(ids.shape[0], ids.shape[1])
    for row, drop in enumerate(drops):
        keep = ~np.isin(ids[row], drop) if drop.size else np.ones(ids.shape[1], dtype=bool)
        n = int(keep.sum())
        out_ids[row, :n] = ids[row, keep]
        out_scores[row, :n] = scores[row, keep]
    return out_ids, out_scores


def _fit_to_k(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if ids.shape[1] == k:
        return ids, scores  # the common case: nothing to cut or pad
    if ids.shape[1] > k:
        return np.ascontiguousarray(ids[:, :k]), np.ascontiguousarray(scores[:, :k])
    out_ids, out_scores = _padded(ids.shape[0], k)
    out_ids[:, : ids.shape[1]] = ids
    out_scores[:, : ids.shape[1]] = scores
    return out_ids, out_scores


def _padded(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.full((nq, k), PAD_ID, dtype=np.int64),
        np.full((nq, k), PAD_SCORE, dtype=np.float32),
    )
