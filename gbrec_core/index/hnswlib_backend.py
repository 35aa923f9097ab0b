"""hnswlib shards ('ip' space: hnswlib reports 1 - <q, x>, turned back into a score)."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gbrec_core.index.shard import Shard


@dataclasses.dataclass(frozen=True)
class HnswConfig:
    m: int = 32
    ef_construction: int = 80
    ef: int = 64
    seed: int = 100


class HnswlibShard(Shard):
    kind: ClassVar[str] = "hnsw"

    def __init__(self, dim: int, config: Any) -> None:
        super().__init__(dim, config)
        self.index: Any = None
        # set_ef is index-global; a lock keeps a large-k search from racing a normal one.
        self._ef_lock = threading.Lock()

    def _new_index(self, capacity: int) -> Any:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=self.dim)
        index.init_index(
            max_elements=capacity,
            M=self.config.m,
            ef_construction=self.config.ef_construction,
            random_seed=self.config.seed,
        )
        index.set_ef(self.config.ef)
        return index

    def _add(self, vectors: np.ndarray) -> None:
        start = len(self)
        needed = start + vectors.shape[0]
        if self.index is None:
            self.index = self._new_index(needed)
        elif needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, 2 * self.index.get_max_elements()))
        labels = np.arange(start, needed, dtype=np.int64)
        self.index.add_items(vectors, labels, num_threads=os.cpu_count() or 1)

    def _search(self, queries: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= self.config.ef:
            labels, distances = self.index.knn_query(queries, k=k, num_threads=threads)
        else:
            # hnswlib raises when ef < k leaves fewer than k candidates.
            with self._ef_lock:
                self.index.set_ef(k)
                try:
                    labels, distances = self.index.knn_query(queries, k=k, num_threads=threads)
                finally:
                    self.index.set_ef(self.config.ef)
        return labels.astype(np.int64), (1.0 - distances).astype(np.float32)

    def stored_vectors(self) -> np.ndarray:
        found = self.index.get_items(np.arange(len(self)), return_type="numpy")
        return np.asarray(found, dtype=np.float32).reshape(len(self), self.dim)

    def set_search_param(self, name: str, value: int) -> None:
        self.config = dataclasses.replace(self.config, **{name: value})
        if self.index is not None:
            with self._ef_lock:
                self.index.set_ef(self.config.ef)

    def nbytes(self) -> int:
        return self.estimate_bytes(len(self), self.dim, self.config) + int(self.ids.nbytes)

    def _save_data(self, folder: Path, stem: str) -> None:
        if self.index is not None:
            self.index.save_index(str(folder / f"{stem}.hnsw"))

    def _load_data(self, folder: Path, stem: str, mmap: bool) -> None:
        path = folder / f"{stem}.hnsw"
        if not path.exists() and len(self) == 0:
            return
        import hnswlib

        self.index = hnswlib.Index(space="ip", dim=self.dim)
        self.index.load_index(str(path), max_elements=len(self))
        self.index.set_ef(self.config.ef)
        if self.index.get_current_count() != len(self):
            raise ValueError(f"{path.name} holds {self.index.get_current_count()} vectors")

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        # vector + 2*M level-0 int32 links + label + link-list header.
        return n * (4 * dim + 8 * int(config.m) + 24)
