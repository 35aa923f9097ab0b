"""FAISS shards: flat, IVF-Flat, IVF-PQ (+ refinement) and HNSW, all with inner product.

Every kind uses ``METRIC_INNER_PRODUCT`` directly. On MF-like vectors with spread
norms the classic MIPS->L2 "extra dimension" transform lost most of the recall
(measured in docs/index.md), while HNSW on raw inner product kept it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gbrec_core.index import hugepages
from gbrec_core.index.faiss_configs import (
    FaissFlatConfig,
    FaissHNSWConfig,
    FaissIVFConfig,
    FaissIVFPQConfig,
)
from gbrec_core.index.shard import Shard, omp_threads

log = logging.getLogger(__name__)

PARALLEL_BUILD_MIN = 20_000
__all__ = [
    "FaissFlatConfig",
    "FaissFlatShard",
    "FaissHNSWConfig",
    "FaissHNSWShard",
    "FaissIVFConfig",
    "FaissIVFPQConfig",
    "FaissIVFPQShard",
    "FaissIVFShard",
]


class FaissShard(Shard):
    """A shard holding one faiss index; the subclass decides how it is built."""

    mmap_capable: ClassVar[bool] = True
    _suffix: ClassVar[str] = ".faiss"

    def __init__(self, dim: int, config: Any) -> None:
        super().__init__(dim, config)
        self.index: Any = None
        self._gpu_index: Any = None

    def _build(self, sample: np.ndarray) -> Any:
        raise NotImplementedError

    def _configure(self) -> None:
        """Apply search-time parameters (after build and after load)."""

    def set_search_param(self, name: str, value: int) -> None:
        self.config = dataclasses.replace(self.config, **{name: value})
        if self.index is not None:
            self._configure()

    def stored_vectors(self) -> np.ndarray:
        return np.asarray(self.index.reconstruct_n(0, self.index.ntotal), dtype=np.float32)

    def _add(self, vectors: np.ndarray) -> None:
        # OpenMP barriers in k-means spin badly on busy cores; small builds gain nothing.
        threads = _cpu_threads() if vectors.shape[0] >= PARALLEL_BUILD_MIN else 1
        with omp_threads(threads):
            if self.index is None:
                self.index = self._build(vectors)
                self._configure()
            self.index.add(vectors)
        self._gpu_index = None
        self.huge_page_bytes = advise_huge_pages(self.index)

    def _search(self, queries: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        index = self._searcher()
        if queries.shape[0] == 1:
            # faiss opens no parallel region for one query in these kinds; skipping the
            # thread-count switch (and faiss' Python-side checks: the query is already
            # a validated float32 row) is most of the wrapper's cost at 1M vectors.
            return _search_one(index, queries, k)
        with omp_threads(threads):
            scores, pos = index.search(queries, k)
        return pos.astype(np.int64, copy=False), scores

    def _searcher(self) -> Any:
        if not getattr(self.config, "gpu", False):
            return self.index
        if self._gpu_index is None:
            self._gpu_index = to_gpu(self.index)
        return self._gpu_index

    def nbytes(self) -> int:
        if self.index is None or getattr(self, "_mmapped", False):
            # Mapped data lives in the page cache, not in this process' heap.
            return int(self.ids.nbytes)
        return int(self._data_bytes() + self.ids.nbytes)

    def _data_bytes(self) -> int:
        return int(self.index.ntotal) * 4 * self.dim

    def _save_data(self, folder: Path, stem: str) -> None:
        import faiss

        if self.index is not None:
            faiss.write_index(self.index, str(folder / f"{stem}{self._suffix}"))

    def _load_data(self, folder: Path, stem: str, mmap: bool) -> None:
        import faiss

        path = folder / f"{stem}{self._suffix}"
        if not path.exists() and len(self) == 0:
            return
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        self.index = faiss.read_index(str(path), flags)
        self._mmapped = mmap
        if self.index.ntotal != len(self) or self.index.d != self.dim:
            raise ValueError(f"{path.name} holds {self.index.ntotal} x {self.index.d} vectors")
        self._configure()
        if not mmap:  # mapped files live in the page cache, which madvise cannot re-page
            self.huge_page_bytes = advise_huge_pages(self.index)


class FaissFlatShard(FaissShard):
    kind: ClassVar[str] = "faiss-flat"

    def _build(self, sample: np.ndarray) -> Any:
        import faiss

        return faiss.IndexFlatIP(self.dim)

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        return n * (4 * dim + 8)


class FaissIVFShard(FaissShard):
    kind: ClassVar[str] = "faiss-ivf"

    def _build(self, sample: np.ndarray) -> Any:
        import faiss

        nlist = self.config.nlist or default_nlist(sample.shape[0])
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(_training_sample(sample, nlist))
        return index

    def _configure(self) -> None:
        import faiss

        ivf = faiss.extract_index_ivf(self.index)
        ivf.nprobe = self.config.nprobe or max(1, math.ceil(ivf.nlist * self.config.probe_fraction))

    def stored_vectors(self) -> np.ndarray:
        _ivf(self.index).make_direct_map()
        return super().stored_vectors()

    def lists(self) -> int:
        return int(_ivf(self.index).nlist) if self.index is not None else 1

    def _data_bytes(self) -> int:
        import faiss

        ivf: Any = faiss.extract_index_ivf(self.index)
        lists = int(ivf.invlists.compute_ntotal()) * (int(ivf.code_size) + 8)
        centroids = int(ivf.nlist) * 4 * self.dim
        refine = int(self.index.ntotal) * self.dim if _refined(self.config) else 0
        return lists + centroids + refine

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        return n * (4 * dim + 16) + default_nlist(n) * 4 * dim


class FaissIVFPQShard(FaissIVFShard):
    kind: ClassVar[str] = "faiss-ivfpq"

    def _build(self, sample: np.ndarray) -> Any:
        import faiss

        cfg: FaissIVFPQConfig = self.config
        nlist = cfg.nlist or default_nlist(sample.shape[0])
        m = cfg.m or pq_m(self.dim)
        # Each sub-quantiser trains 2**nbits centroids; small shards get fewer bits.
        nbits = min(cfg.nbits, max(1, int(math.log2(max(sample.shape[0] // 39, 2)))))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFPQ(quantizer, self.dim, nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
        index: Any = ivf
        if cfg.refine == "sq8":
            sq = faiss.IndexScalarQuantizer(
                self.dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            index = faiss.IndexRefine(ivf, sq)
        index.train(_training_sample(sample, max(nlist, 2**nbits)))
        return index

    def _configure(self) -> None:
        super()._configure()
        if self.config.refine == "sq8":
            import faiss

            refine: Any = faiss.downcast_index(self.index)
            refine.k_factor = float(self.config.refine_factor)

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        m = config.m or pq_m(dim)
        refine = dim if config.refine == "sq8" else 0
        return n * (m + refine + 16) + default_nlist(n) * 4 * dim + 256 * 4 * dim


class FaissHNSWShard(FaissShard):
    """HNSW on inner product; ``storage="sq8"`` walks the graph on 8-bit scalar codes
    (a quarter of the memory traffic per hop) and re-ranks ``refine_factor * k``
    candidates on the exact vectors (``IndexRefineFlat``)."""

    kind: ClassVar[str] = "faiss-hnsw"
    # faiss can map IVF/flat storage, not the HNSW graph; load reads it into memory.
    mmap_capable: ClassVar[bool] = False

    def _build(self, sample: np.ndarray) -> Any:
        import faiss

        cfg: FaissHNSWConfig = self.config
        if cfg.storage == "flat":
            index = faiss.IndexHNSWFlat(self.dim, cfg.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = cfg.ef_construction
            return index
        qtype: Any = faiss.ScalarQuantizer.QT_8bit  # an enum int; the stubs say otherwise
        graph = faiss.IndexHNSWSQ(self.dim, qtype, cfg.m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = cfg.ef_construction
        refined = faiss.IndexRefineFlat(graph)
        refined.train(sample)
        return refined

    def _configure(self) -> None:
        # The file decides the layout (an index saved before ``storage`` existed is flat).
        graph = _graph(self.index)
        graph.hnsw.efSearch = self.config.ef_search
        if graph is not self.index:
            self.index.k_factor = float(self.config.refine_factor)

    def _data_bytes(self) -> int:
        return array_bytes(self.index)

    def _searcher(self) -> Any:
        if getattr(self.config, "gpu", False):
            log.info("faiss HNSW has no GPU implementation; searching on CPU")
        return self.index

    @staticmethod
    def estimate_bytes(n: int, dim: int, config: Any) -> int:
        # level 0 holds 2*M int32 links; upper levels add ~1/M of that again.
        codes = 4 * dim + (dim if config.storage == "sq8" else 0)
        return n * (codes + 8 * int(config.m) + 8 + 16)


def _graph(index: Any) -> Any:
    """The ``IndexHNSW`` inside ``index`` (itself, or the base of an ``IndexRefine``)."""
    import faiss

    if isinstance(index, faiss.IndexRefine):
        return faiss.downcast_index(index.base_index)
    return index


def _parts(index: Any) -> list[Any]:
    """``index`` and the faiss indices inside it (HNSW storage, refine base and exact)."""
    import faiss

    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexRefine):
        return [*_parts(index.base_index), *_parts(index.refine_index)]
    if isinstance(index, faiss.IndexHNSW):
        return [index, *_parts(index.storage)]
    return [index]


def _arrays(index: Any) -> list[tuple[Any, int]]:
    """The large flat arrays of ``index``: HNSW links and flat/scalar codes, with item size."""
    found: list[tuple[Any, int]] = []
    for part in _parts(index):
        if hasattr(part, "hnsw"):
            found.append((part.hnsw.neighbors, 4))
        if hasattr(part, "codes") and hasattr(part.codes, "data"):
            found.append((part.codes, 1))
    return found


def array_bytes(index: Any) -> int:
    """Bytes of ``index``'s flat arrays (links and codes)."""
    return sum(int(vector.size()) * size for vector, size in _arrays(index))


def advise_huge_pages(index: Any) -> int:
    """Back ``index``'s flat arrays with huge pages (``hugepages``); bytes advised."""
    return sum(hugepages.advise_vector(vector, size) for vector, size in _arrays(index))


def _search_one(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One (1, dim) query through faiss' C entry point."""
    import faiss

    query = np.ascontiguousarray(query, dtype=np.float32)
    scores = np.empty((1, k), dtype=np.float32)
    pos = np.empty((1, k), dtype=np.int64)
    index.search_c(1, faiss.swig_ptr(query), k, faiss.swig_ptr(scores), faiss.swig_ptr(pos))
    return pos, scores


def default_nlist(n: int) -> int:
    """sqrt(n) lists, but at least 39 training points per centroid (faiss' minimum)."""
    return max(1, min(int(math.sqrt(max(n, 1))), max(1, n // 39)))


def pq_m(dim: int) -> int:
    """Sub-quantisers of 4 dims each (16 bytes for 64-d): the SQ8 refinement restores
    most of the ranking, and 2-dim sub-quantisers doubled training time for +0.02 recall."""
    for m in range(max(1, dim // 4), 0, -1):
        if dim % m == 0:
            return m
    return 1


def to_gpu(index: Any) -> Any:
    """Copy ``index`` to all GPUs if faiss sees one; otherwise keep the CPU index."""
    import faiss

    gpus = faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") else 0
    if gpus == 0:
        log.warning("gpu=True but faiss sees no GPU (faiss-cpu build?); searching on CPU")
        return index
    return faiss.index_cpu_to_all_gpus(index)


def _training_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    limit = max(256 * nlist, 50_000)
    if vectors.shape[0] <= limit:
        return vectors
    rows = np.random.default_rng(0).choice(vectors.shape[0], limit, replace=False)
    return np.ascontiguousarray(vectors[np.sort(rows)])


def _ivf(index: Any) -> Any:
    import faiss

    return faiss.extract_index_ivf(index)


def _refined(config: Any) -> bool:
    return getattr(config, "refine", "none") == "sq8"


def _cpu_threads() -> int:
    import os

    return max(1, os.cpu_count() or 1)
