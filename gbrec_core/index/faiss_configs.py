"""Parameters of the FAISS kinds (the ``params`` of ``make_index`` and the manifest).

The search-time field of each approximate kind (``ef_search``, ``nprobe``) is what
``target_recall`` tunes; its default here only serves untuned indices.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from gbrec_core.errors import InvalidInputError


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
    """M=32, efSearch=64 kept recall@10 >= 0.99 on 200k MF-like vectors (docs/index.md).

    ``storage="sq8"`` searches the graph on 8-bit codes and re-ranks ``refine_factor``
    times ``k`` candidates on the float vectors: the same recall per ``ef_search`` at
    1M vectors, faster, for a quarter more vector memory.
    """

    m: int = 32
    ef_construction: int = 80
    ef_search: int = 64
    storage: Literal["flat", "sq8"] = "flat"
    refine_factor: int = 2
    gpu: bool = False  # accepted for uniformity; faiss has no GPU HNSW, so it logs and uses CPU

    def __post_init__(self) -> None:
        if self.storage not in ("flat", "sq8"):
            raise InvalidInputError(f"storage must be 'flat' or 'sq8', got {self.storage!r}")
        if self.refine_factor < 1:
            raise InvalidInputError(f"refine_factor must be >= 1, got {self.refine_factor}")
