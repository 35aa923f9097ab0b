"""Transparent huge pages for the large arrays a graph search walks at random.

A 1M x 64 HNSW index is ~512 MiB of vectors and links read in random order: with
4 KiB pages nearly every read also misses the TLB and walks the page table. numpy
asks the kernel for huge pages on its large arrays; faiss' ``std::vector`` storage
does not, so after a build or load :func:`advise` asks for them on an array's
2 MiB-aligned interior (``MADV_HUGEPAGE``) and collapses the pages already there
(``MADV_COLLAPSE``, Linux 6.1+; older kernels leave it to ``khugepaged``). On the
benchmark machine this made single-query faiss HNSW search 1.3x faster
(docs/index.md). It is an optimisation only: where the platform refuses, the
refusal is counted in :data:`REFUSED`, logged once, and search works unchanged.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

HUGE_PAGE = 2 * 1024 * 1024
MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25
#: Refusals by ``madvise`` call, e.g. ``{"MADV_COLLAPSE": 3}`` (optimisation skipped).
REFUSED: Counter[str] = Counter()


def advise(address: int, nbytes: int) -> int:
    """Back ``[address, address + nbytes)`` with huge pages where the platform allows.

    Returns the bytes advised: 0 when the range holds no whole huge page, the
    platform has no ``madvise`` or refuses ``MADV_HUGEPAGE``. A refused collapse still
    counts (the kernel's ``khugepaged`` collapses advised ranges later)."""
    start = -(-address // HUGE_PAGE) * HUGE_PAGE
    end = (address + nbytes) // HUGE_PAGE * HUGE_PAGE
    madvise = _madvise()
    if end <= start or madvise is None:
        return 0
    if madvise(start, end - start, MADV_HUGEPAGE) != 0:
        _refused("MADV_HUGEPAGE", ctypes.get_errno())
        return 0
    if madvise(start, end - start, MADV_COLLAPSE) != 0:
        _refused("MADV_COLLAPSE", ctypes.get_errno())
    return end - start


def advise_vector(vector: Any, item_bytes: int) -> int:
    """:func:`advise` on a faiss (SWIG) vector's buffer of ``size() * item_bytes``."""
    size = int(vector.size())
    return advise(int(vector.data()), size * item_bytes) if size else 0


def _refused(name: str, errno: int) -> None:
    if not REFUSED[name]:
        log.info("huge pages: %s refused (errno %d); searching on normal pages", name, errno)
    REFUSED[name] += 1


@functools.cache
def _madvise() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.restype = ctypes.c_int
    return libc.madvise
