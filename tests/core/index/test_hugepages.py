"""Huge pages for index arrays: advised where possible, refusals counted, never fatal."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.index import hugepages, make_index
from gbrec_core.index.synthetic import mf_vectors

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise is Linux-only")
thp = pytest.mark.skipif(
    not Path("/sys/kernel/mm/transparent_hugepage/enabled").exists(),
    reason="kernel without transparent huge pages",
)


@linux
@thp
def test_advise_covers_the_aligned_interior_of_a_buffer() -> None:
    buffer = np.zeros(9 * hugepages.HUGE_PAGE, dtype=np.uint8)
    advised = hugepages.advise(buffer.ctypes.data, buffer.nbytes)
    assert advised % hugepages.HUGE_PAGE == 0
    assert 8 * hugepages.HUGE_PAGE <= advised <= buffer.nbytes


def test_a_buffer_without_a_whole_huge_page_is_left_alone() -> None:
    buffer = np.zeros(hugepages.HUGE_PAGE // 2, dtype=np.uint8)
    assert hugepages.advise(buffer.ctypes.data, buffer.nbytes) == 0


@linux
def test_a_refusal_is_counted_and_claims_nothing() -> None:
    before = sum(hugepages.REFUSED.values())
    unmapped = 1 << 46  # far above any mapping of this process: madvise fails with ENOMEM
    assert hugepages.advise(unmapped, 4 * hugepages.HUGE_PAGE) == 0
    assert sum(hugepages.REFUSED.values()) > before


@linux
@thp
@pytest.mark.parametrize("storage", ["flat", "sq8"])
def test_faiss_hnsw_arrays_are_advised_after_build_and_load(storage: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gbrec_core.index import load_index

    ids, vectors = np.arange(20_000, dtype=np.int64), mf_vectors(20_000, 32, seed=5)
    index = make_index("faiss-hnsw", 32, storage=storage)
    index.add(ids, vectors)
    # 20k x 32 floats (2.4 MiB) and 20k x 64 links (4.9 MiB) hold whole huge pages.
    assert index.stats()["huge_page_bytes"] >= hugepages.HUGE_PAGE
    loaded = load_index(index.save(tmp_path / "ix"))
    assert loaded.stats()["huge_page_bytes"] >= hugepages.HUGE_PAGE
    found, expected = loaded.search(vectors[:5], 10)[0], index.search(vectors[:5], 10)[0]
    np.testing.assert_array_equal(found, expected)
