"""Parameters of the FAISS kinds (the ``params`` of ``make_index`` and the manifest).

The search-time field of each approximate kind (``ef_search``, ``nprobe``) is what
``target_recall`` tunes; its default here only serves untuned indices.
"""

from __future__ import annotations

import dataclasses
from typing import Literal


@dataclasses.dataclass(frozen=True)
class FaissFlatConfig:
    gpu: bool = False


@dataclasses.dataclass(frozen=True)
class FaissIVFConfig:
    """``nlist`` defaults to sqrt(n) of the first add; ``nprobe`` to ``probe_fraction`` of it.

    IVF partitions by direction, but the inner-product winners are long vectors spread
    over many cells, so MIPS needs a large probe fraction (0.3 gave recall@10 0.97).
    """

    nlist: int | None = None
    nprobe: int | None = None
    probe_fraction: float = 0.3
    gpu: bool = False


@dataclasses.dataclass(frozen=True)
class FaissIVFPQConfig:
    """Compressed kind: PQ codes of ``m`` bytes, optionally re-ranked from 8-bit scalars."""

    nlist: int | None = None
    nprobe: int | None = None
    probe_fraction: float = 0.3
    m: int | None = None
    nbits: int = 8
    refine: Literal["sq8", "none"] = "sq8"
    refine_factor: int = 10
    gpu: bool = False


@dataclasses.dataclass(frozen=True)
class FaissHNSWConfig:
    """M=32, efSearch=64 kept recall@10 >= 0.99 on 200k MF-like vectors (docs/index.md)."""

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    gpu: bool = False  # accepted for uniformity; faiss has no GPU HNSW, so it logs and uses CPU
