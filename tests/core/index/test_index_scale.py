"""Acceptance-sized checks: sharded exact == exact, ANN recall on MF-like vectors."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from gbrec_core.index import make_index
from gbrec_core.index.synthetic import mf_vectors

from .index_contract import recall_at

DIM = 64


@pytest.fixture(scope="module")
def catalogue() -> tuple[np.ndarray, np.ndarray]:
    vectors = mf_vectors(200_000, DIM, seed=11)
    norms = np.linalg.norm(vectors, axis=1)
    assert np.percentile(norms, 99) / np.percentile(norms, 1) > 5, "norms must vary like ALS"
    return np.arange(200_000, dtype=np.int64) * 7 + 3, vectors


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return mf_vectors(100, DIM, seed=12)


def truth_for(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    exact = make_index("exact", DIM)
    exact.add(ids, vectors)
    return exact.search(queries, k)[0]


def test_exact_four_shards_equals_one_shard_on_200k(catalogue, queries) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = catalogue
    one, four = make_index("exact", DIM), make_index("exact", DIM, shards=4)
    one.add(ids, vectors)
    four.add(ids, vectors)
    assert four.stats()["shard_sizes"] == [50_000] * 4
    np.testing.assert_array_equal(four.search(queries, 10)[0], one.search(queries, 10)[0])
    drop = [row[:3] for row in one.search(queries, 3)[0]]
    np.testing.assert_array_equal(
        four.search(queries, 10, exclude=drop)[0], one.search(queries, 10, exclude=drop)[0]
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["faiss-hnsw", "hnsw", "faiss-ivf"])
def test_ann_recall_at_default_params_on_50k(kind: str, catalogue, queries) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = catalogue[0][:50_000], catalogue[1][:50_000]
    index = make_index(kind, DIM)
    index.add(ids, vectors)
    found = index.search(queries, 10)[0]
    assert recall_at(found, truth_for(ids, vectors, queries)) >= 0.95


@pytest.mark.slow
def test_milvus_lite_same_top10_as_exact_on_20k(milvus_uri: str, catalogue, queries) -> None:  # type: ignore[no-untyped-def]
    ids, vectors = catalogue[0][:20_000], catalogue[1][:20_000]
    index = make_index(
        "milvus", dim=DIM, metric="ip", uri=milvus_uri, collection=f"r{uuid.uuid4().hex[:8]}"
    )
    index.add(ids, vectors)
    found = index.search(queries, 10)[0]
    truth = truth_for(ids, vectors, queries)
    same = np.mean([set(f) == set(t) for f, t in zip(found, truth, strict=True)])
    assert same >= 0.95
    assert index.stats()["vectors"] == 20_000 and index.stats()["healthy"]
