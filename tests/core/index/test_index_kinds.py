"""Every index kind against the contract (exact is the oracle)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from gbrec_core.index import make_index

from .index_contract import DIM, IndexContract, recall_at


class TestExact(IndexContract):
    kind = "exact"

    def test_sharded_equals_unsharded_exactly(self) -> None:
        one = self.filled().search(self.queries, 25)
        four = self.filled(shards=4).search(self.queries, 25)
        np.testing.assert_array_equal(four[0], one[0])
        np.testing.assert_allclose(four[1], one[1], rtol=1e-6)


class TestFaissFlat(IndexContract):
    kind = "faiss-flat"


class TestFaissIVF(IndexContract):
    kind = "faiss-ivf"


class TestFaissIVFPQ(IndexContract):
    # Compressed codes trade recall for memory (see docs/index.md); small shards train
    # few PQ centroids, so the bound here is looser than for the other kinds.
    kind = "faiss-ivfpq"
    min_recall = 0.8
    score_atol = 0.1


class TestFaissHNSW(IndexContract):
    kind = "faiss-hnsw"


class TestFaissHNSWSQ8(IndexContract):
    """The graph walked on 8-bit codes, candidates re-ranked on the float vectors."""

    kind = "faiss-hnsw"

    @pytest.fixture(autouse=True)
    def _sq8(self, _setup: None) -> None:
        self.extra = {"storage": "sq8"}

    def test_scores_and_stored_vectors_are_exact(self) -> None:
        index = self.filled()
        ids, scores = index.search(self.queries, 10)
        by_id = dict(zip(self.ids.tolist(), self.vectors, strict=True))
        rows = zip(ids, self.queries, strict=True)
        expected = np.array([[by_id[i] @ q for i in row] for row, q in rows])
        np.testing.assert_allclose(scores, expected, rtol=1e-5)
        stored_ids, stored = index.stored_vectors()  # type: ignore[attr-defined]
        order, expected_order = np.argsort(stored_ids), np.argsort(self.ids)
        np.testing.assert_array_equal(stored[order], self.vectors[expected_order])


class TestHnswlib(IndexContract):
    kind = "hnsw"


class TestMilvus(IndexContract):
    kind = "milvus"

    @pytest.fixture(autouse=True)
    def _milvus(self, _setup: None, milvus_uri: str) -> None:
        self.extra = {"uri": milvus_uri, "collection": f"t_{uuid.uuid4().hex[:12]}"}

    def test_filter_expression(self) -> None:
        index = self.filled()
        cutoff = int(np.median(self.ids))
        ids, _ = index.search(self.queries, 10, filter=f"id < {cutoff}")  # type: ignore[call-arg]
        assert (ids >= 0).all() and (ids < cutoff).all()

    def test_load_fails_when_collection_dropped(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from gbrec_core.errors import IndexLoadError
        from gbrec_core.index import load_index

        index = self.filled()
        path = index.save(tmp_path / "m")
        index.drop()
        with pytest.raises(IndexLoadError, match="missing"):
            load_index(path)


def test_unknown_kind_and_params_are_rejected() -> None:
    from gbrec_core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="unknown index kind"):
        make_index("annoy", DIM)
    with pytest.raises(InvalidInputError, match="ef_search"):
        make_index("faiss-hnsw", DIM, efsearch=10)
    with pytest.raises(InvalidInputError, match="storage must be"):
        make_index("faiss-hnsw", DIM, storage="pq")
    with pytest.raises(InvalidInputError, match="refine_factor"):
        make_index("faiss-hnsw", DIM, storage="sq8", refine_factor=0)


def test_recall_helper_counts_overlap() -> None:
    assert recall_at(np.array([[1, 2, -1]]), np.array([[2, 3, 4]])) == pytest.approx(1 / 3)


def test_huge_finite_queries_are_accepted_and_non_finite_ones_refused() -> None:
    """The finite check's fast path (a sum of squares) overflows on huge entries; the
    entry-wise fallback must then accept them."""
    from gbrec_core.errors import InvalidInputError

    index = make_index("exact", DIM)
    index.add(np.arange(20, dtype=np.int64), np.eye(20, DIM, dtype=np.float32))
    huge = np.full((1, DIM), 1e30, dtype=np.float32)
    assert index.search(huge, 5)[0].shape == (1, 5)
    for bad in (np.inf, -np.inf, np.nan):
        query = huge.copy()
        query[0, 3] = bad
        with pytest.raises(InvalidInputError, match="NaN or infinite"):
            index.search(query, 5)
