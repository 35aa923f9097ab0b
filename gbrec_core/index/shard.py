"""The per-shard backend interface used by :class:`~gbrec_core.index.sharded.ShardedIndex`.

A shard stores vectors at dense positions 0..n-1 and keeps the position -> external
id array itself, so every backend (faiss, hnswlib, numpy) maps ids the same way and
the manifest can list the ids of each shard.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from gbrec_core.errors import IndexLoadError, InvalidInputError

IDS_SUFFIX = ".ids.npy"


class Shard(ABC):
    """One partition of a local index: vectors at positions, plus their external ids."""

    kind: ClassVar[str]
    #: Whether loading can map the data file instead of reading it into memory.
    mmap_capable: ClassVar[bool] = False

    def __init__(self, dim: int, config: Any) -> None:
        self.dim = dim
        self.config = config
        self.ids = np.empty(0, dtype=np.int64)
        self.read_only = False
        #: Bytes of this shard's arrays backed by huge pages (``hugepages``).
        self.huge_page_bytes = 0

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    # ---- backend hooks ------------------------------------------------------------------
    @abstractmethod
    def _add(self, vectors: np.ndarray) -> None:
        """Append vectors at positions len(self)..len(self)+n-1 (ids not yet appended)."""

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        """(nq, k) positions and scores, best first; k <= len(self). Missing results
        are position -1 and come last in their row."""

    @abstractmethod
    def nbytes(self) -> int:
        """Bytes this shard holds in memory (vectors, graph, codes and ids)."""

    @abstractmethod
    def _save_data(self, folder: Path, stem: str) -> None:
        """Write the backend's data file(s) named ``stem.*`` into ``folder``."""

    @abstractmethod
    def _load_data(self, folder: Path, stem: str, mmap: bool) -> None:
        """Read what ``_save_data`` wrote; ``self.ids`` is already set."""

    @staticmethod
    @abstractmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        """Memory an index of ``n`` vectors would need (for the ``max_bytes`` budget)."""

    def stored_vectors(self) -> np.ndarray:
        """The (n, dim) vectors in position order (for re-tuning after a second add)."""
        raise InvalidInputError(f"a {self.kind} shard cannot return its vectors")

    # ---- shared behaviour -------------------------------------------------------------
    def set_search_param(self, name: str, value: int) -> None:
        """Change one search-time parameter (``ef_search``, ``ef``, ``nprobe``) in place."""
        raise InvalidInputError(f"a {self.kind} shard has no search parameter {name!r}")

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self.read_only:
            raise InvalidInputError(
                f"this {self.kind} shard was loaded memory-mapped and is read-only; "
                "load it with mmap=False to add vectors"
            )
        self._add(vectors)
        self.ids = np.concatenate([self.ids, ids])

    def search(self, queries: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        """(nq, k) external ids and scores, padded with -1 / -inf."""
        k_eff = min(k, len(self))
        if k_eff == 0:
            return _padded(queries.shape[0], k)
        pos, found = self._search(queries, k_eff, threads)
        if k_eff == k and _complete(pos):
            # The serving path: a full answer needs no padding (saves ~1/3 of the wrapper).
            return self.ids[pos], found
        ids, scores = _padded(queries.shape[0], k)
        valid = pos >= 0
        ids[:, :k_eff] = np.where(valid, self.ids[np.where(valid, pos, 0)], -1)
        scores[:, :k_eff] = np.where(valid, found, -np.inf)
        return ids, scores

    def save(self, folder: Path, stem: str) -> None:
        np.save(folder / f"{stem}{IDS_SUFFIX}", self.ids)
        self._save_data(folder, stem)

    @classmethod
    def load(cls, folder: Path, stem: str, dim: int, config: Any, mmap: bool) -> Self:
        shard = cls(dim, config)
        try:
            shard.ids = np.load(folder / f"{stem}{IDS_SUFFIX}", allow_pickle=False)
            shard._load_data(folder, stem, mmap and cls.mmap_capable)
        except (OSError, ValueError, RuntimeError) as e:
            raise IndexLoadError(f"cannot read shard {stem} of {folder}: {e}") from e
        shard.read_only = mmap and cls.mmap_capable
        return shard


@contextlib.contextmanager
def omp_threads(n: int) -> Iterator[None]:
    """Run faiss with ``n`` OpenMP threads in this thread, restoring the previous value.

    OpenMP's thread count is a per-thread setting, so a single-query search in one
    worker does not change how a batch search in another worker parallelises.
    """
    import faiss

    previous = faiss.omp_get_max_threads()
    if previous == max(1, n):
        yield
        return
    faiss.omp_set_num_threads(max(1, n))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _complete(pos: np.ndarray) -> bool:
    """Whether no row misses a result (a missing one is -1 at the end of its row);
    one query reads one number instead of reducing the array."""
    return bool(pos[0, -1] >= 0) if pos.shape[0] == 1 else bool(pos[:, -1].min() >= 0)


def _padded(nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((nq, k), -1, dtype=np.int64), np.full((nq, k), -np.inf, dtype=np.float32)
