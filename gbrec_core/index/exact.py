"""The exact index: a numpy matrix product, the oracle every ANN kind is tested against."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gbrec_core.index.shard import Shard

# Scores of one query block stay around 64 MiB however large the catalogue is.
_BLOCK_FLOATS = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ExactConfig:
    """The exact index has no knobs; the dataclass keeps the factory uniform."""


class ExactShard(Shard):
    kind: ClassVar[str] = "exact"
    mmap_capable: ClassVar[bool] = True

    def __init__(self, dim: int, config: Any) -> None:
        super().__init__(dim, config)
        self._chunks: list[np.ndarray] = []
        self._matrix = np.empty((0, dim), dtype=np.float32)

    def _add(self, vectors: np.ndarray) -> None:
        self._chunks.append(vectors.copy())

    @property
    def matrix(self) -> np.ndarray:
        # Adds are cheap appends; concatenation happens once before the next search.
        if self._chunks:
            self._matrix = np.concatenate([self._matrix, *self._chunks])
            self._chunks = []
        return self._matrix

    def _search(self, queries: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        matrix = self.matrix
        nq = queries.shape[0]
        pos = np.empty((nq, k), dtype=np.int64)
        scores = np.empty((nq, k), dtype=np.float32)
        block = max(1, _BLOCK_FLOATS // max(1, matrix.shape[0]))
        with blas_threads(threads):
            for start in range(0, nq, block):
                rows = slice(start, start + block)
                pos[rows], scores[rows] = top_k_rows(queries[rows] @ matrix.T, k)
        return pos, scores

    def stored_vectors(self) -> np.ndarray:
        return np.asarray(self.matrix)

    def nbytes(self) -> int:
        return int(self.matrix.nbytes + self.ids.nbytes)

    def _save_data(self, folder: Path, stem: str) -> None:
        np.save(folder / f"{stem}.vectors.npy", self.matrix)

    def _load_data(self, folder: Path, stem: str, mmap: bool) -> None:
        matrix = np.load(folder / f"{stem}.vectors.npy", mmap_mode="r" if mmap else None)
        if matrix.shape != (len(self), self.dim):
            raise ValueError(f"vectors have shape {matrix.shape}, expected {(len(self), self.dim)}")
        self._matrix = matrix

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        return n * (4 * dim + 8)


@functools.cache
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def blas_threads(threads: int) -> Iterator[None]:
    """Single-thread BLAS for small batches: a matrix-vector product split over busy cores
    ran 3x slower than on one core (docs/index.md). Needs threadpoolctl; else a no-op."""
    controller: Any = _blas_controller() if threads == 1 else None
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


def top_k_rows(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest entries per row, best first.

    Ties are broken by the lower column so that the result does not depend on how a
    catalogue was split into shards.
    """
    n = scores.shape[1]
    if k < n:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    top = np.take_along_axis(part, order, axis=1)
    return top.astype(np.int64), np.take_along_axis(values, order, axis=1).astype(np.float32)
