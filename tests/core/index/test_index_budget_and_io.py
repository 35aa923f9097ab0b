"""Memory budget, atomic saves, memory-mapped loads and the micro-batcher."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import IndexBudgetError, IndexLoadError, InvalidInputError
from gbrec_core.index import load_index, make_index
from gbrec_core.index.synthetic import mf_vectors

DIM = 32


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return np.arange(20_000, dtype=np.int64), mf_vectors(20_000, DIM, seed=5)


def test_budget_refuses_with_estimate(data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index("faiss-hnsw", DIM, max_bytes=1_000_000)
    with pytest.raises(IndexBudgetError, match=r"needs an estimated [\d,]+ bytes") as err:
        index.add(ids, vectors)
    assert err.value.code == "BAD_USER_INPUT" and len(index) == 0
    with pytest.raises(IndexBudgetError):
        make_index("exact", DIM, max_bytes=1000, expected_size=10_000)


@pytest.mark.slow
def test_budget_compress_builds_ivfpq_that_fits(data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data[0][:8000], data[1][:8000]
    budget = 1_200_000  # raw vectors alone take 8000 * 136 B = 1.09 MB; HNSW adds its graph
    index = make_index("faiss-hnsw", DIM, max_bytes=budget, on_budget="compress")
    index.add(ids, vectors)
    stats = index.stats()
    assert stats["kind"] == "faiss-ivfpq" and stats["bytes"] <= budget
    exact = make_index("exact", DIM)
    exact.add(ids, vectors)
    q = mf_vectors(50, DIM, seed=6)
    truth, found = exact.search(q, 10)[0], index.search(q, 10)[0]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]) > 0.7


def test_save_replaces_existing_index_atomically(tmp_path: Path, data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    small = make_index("faiss-flat", DIM)
    small.add(ids[:10], vectors[:10])
    small.save(tmp_path / "idx")
    big = make_index("faiss-flat", DIM, shards=2)
    big.add(ids, vectors)
    big.save(tmp_path / "idx")
    assert len(load_index(tmp_path / "idx")) == 20_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


def test_failed_save_leaves_previous_index(tmp_path: Path, data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index("exact", DIM)
    index.add(ids[:100], vectors[:100])
    index.save(tmp_path / "idx")

    def boom(folder: Path, stem: str) -> None:
        raise OSError("disk full")

    index.shards[0]._save_data = boom  # type: ignore[attr-defined, method-assign]
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path / "idx")
    assert len(load_index(tmp_path / "idx")) == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]


@pytest.mark.parametrize("kind", ["faiss-flat", "faiss-ivf", "exact"])
def test_mmap_load_is_read_only_and_correct(kind: str, tmp_path: Path, data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index(kind, DIM)
    index.add(ids, vectors)
    index.save(tmp_path / "idx")
    mapped = load_index(tmp_path / "idx", mmap=True)
    np.testing.assert_array_equal(
        mapped.search(vectors[:20], 5)[0], index.search(vectors[:20], 5)[0]
    )
    with pytest.raises(InvalidInputError, match="read-only"):
        mapped.add(np.array([10**9]), vectors[:1])
    writable = load_index(tmp_path / "idx", mmap=False)
    writable.add(np.array([10**9]), vectors[:1])
    assert len(writable) == 20_001


def test_truncated_shard_raises(tmp_path: Path, data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index("faiss-hnsw", DIM, shards=2)
    index.add(ids[:2000], vectors[:2000])
    path = index.save(tmp_path / "idx")
    shard = path / "shard-001.faiss"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(IndexLoadError, match="wrong size"):
        load_index(path)


def test_gpu_request_on_cpu_only_machine_falls_back(data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index("faiss-flat", DIM, gpu=True)
    index.add(ids[:500], vectors[:500])
    truth = make_index("faiss-flat", DIM)
    truth.add(ids[:500], vectors[:500])
    np.testing.assert_array_equal(index.search(vectors[:3], 2)[0], truth.search(vectors[:3], 2)[0])


def test_micro_batcher_groups_concurrent_queries(data) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = data
    index = make_index("exact", DIM, batching=True)
    index.add(ids, vectors)
    queries = mf_vectors(64, DIM, seed=9)
    excludes = [[int(i)] for i in index.search(queries, 1)[0][:, 0]]

    async def run() -> tuple[list[np.ndarray], int]:
        results = await asyncio.gather(
            *(index.asearch(q, 5, exclude=[e]) for q, e in zip(queries, excludes, strict=True))
        )
        loop = asyncio.get_running_loop()
        return [r[0][0] for r in results], index._batchers[loop].batches

    found, batches = asyncio.run(run())
    np.testing.assert_array_equal(np.vstack(found), index.search(queries, 5, exclude=excludes)[0])
    assert batches < 64 / 4, "concurrent single queries should share batches"
