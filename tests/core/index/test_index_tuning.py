"""Self-tuning: the build picks the cheapest search parameter reaching the recall target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.index import ShardedIndex, build_shard, load_index, load_shard_set, make_index
from gbrec_core.index import tuning as tuning_mod
from gbrec_core.index.synthetic import mf_vectors

from .index_contract import recall_at

DIM = 32
N = 6000


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return np.arange(N, dtype=np.int64) * 3 + 1, mf_vectors(N, DIM, seed=21)


def held_out_recall(index: ShardedIndex, ids: np.ndarray, vectors: np.ndarray) -> float:
    """Recall@10 on user-like queries the tuning never saw (another generator seed)."""
    queries = mf_vectors(400, DIM, seed=22)
    exact = make_index("exact", DIM)
    exact.add(ids, vectors)
    return recall_at(index.search(queries, 10)[0], exact.search(queries, 10)[0])


def tuned(kind: str, data: tuple[np.ndarray, np.ndarray], target: float) -> ShardedIndex:
    index = make_index(kind, DIM, target_recall=target)
    index.add(*data)
    assert isinstance(index, ShardedIndex) and index.tuning is not None
    return index


@pytest.mark.parametrize(("kind", "target"), [("faiss-hnsw", 0.97), ("hnsw", 0.97)])
def test_tuned_index_reaches_the_target_on_held_out_queries(
    kind: str, target: float, data: tuple[np.ndarray, np.ndarray]
) -> None:
    index = tuned(kind, data, target)
    tuning = index.tuning
    assert tuning is not None and tuning["met"] and tuning["measured_recall"] >= target
    name = tuning_mod.SEARCH_PARAMS[kind]
    assert tuning["parameter"] == name and getattr(index.config, name) == tuning["value"]
    assert held_out_recall(index, *data) >= target - 0.01


@pytest.mark.parametrize(("kind", "target"), [("faiss-hnsw", 0.99), ("faiss-ivf", 0.95)])
def test_chosen_parameter_is_minimal(
    kind: str, target: float, data: tuple[np.ndarray, np.ndarray]
) -> None:
    """One ladder step lower misses the target on the same sample (or it is the floor)."""
    index = tuned(kind, data, target)
    assert index.tuning is not None
    chosen, name = int(index.tuning["value"]), str(index.tuning["parameter"])
    steps = tuning_mod.ladder(index)
    position = steps.index(chosen)
    if position == 0:
        return  # the floor already meets the target
    query_ids, queries = tuning_mod.sample_queries(*data, tuning_mod.DEFAULT_QUERIES, 0)
    truth = tuning_mod.exact_truth(*data, query_ids, queries)
    exclude = [np.array([i]) for i in query_ids]
    index.set_search_param(name, steps[position - 1])
    hits = tuning_mod.per_query_recall(index.search(queries, 10, exclude)[0], truth)
    assert tuning_mod.group_bound(hits, query_ids) < target
    index.set_search_param(name, chosen)
    hits = tuning_mod.per_query_recall(index.search(queries, 10, exclude)[0], truth)
    assert tuning_mod.group_bound(hits, query_ids) >= target


def test_unreachable_target_keeps_the_largest_value_and_says_so(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    index = make_index("faiss-ivfpq", DIM, refine="none", target_recall=1.0)
    index.add(*data)
    assert isinstance(index, ShardedIndex) and index.tuning is not None
    assert not index.tuning["met"] and index.tuning["measured_recall"] < 1.0
    assert index.tuning["value"] == tuning_mod.ladder(index)[-1] == index.max_lists()


def test_tuning_persists_through_save_and_load(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    index = tuned("faiss-hnsw", data, 0.95)
    index.save(tmp_path / "idx")
    loaded = load_index(tmp_path / "idx")
    assert isinstance(loaded, ShardedIndex)
    assert loaded.stats()["tuning"] == index.tuning
    assert loaded.config.ef_search == index.tuning["value"]  # type: ignore[index]
    queries = mf_vectors(50, DIM, seed=23)
    np.testing.assert_array_equal(loaded.search(queries, 10)[0], index.search(queries, 10)[0])


def test_shard_set_partitions_tune_alone_and_report_the_worst(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    for shard in range(2):
        build_shard(
            tmp_path, "hnsw", ids, vectors, shard=shard, shards=2, target_recall=0.96
        ).close()
    index = load_shard_set(tmp_path)
    assert index.tuning is not None and len(index.tuning["per_shard"]) == 2
    assert index.tuning["measured_recall"] >= 0.96 and index.tuning["met"]
    assert [s.config.ef for s in index.shards] == index.tuning["per_shard"]
    assert index.tuning["value"] == max(index.tuning["per_shard"])


def test_a_second_add_retunes_over_everything(data: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = data
    index = make_index("faiss-hnsw", DIM, target_recall=0.95)
    index.add(ids[:1000], vectors[:1000])
    index.add(ids[1000:], vectors[1000:])
    assert isinstance(index, ShardedIndex) and index.tuning is not None
    assert index.tuning["met"] and held_out_recall(index, ids, vectors) >= 0.94


def test_exact_kinds_ignore_the_target_and_bad_targets_are_refused(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    flat = make_index("faiss-flat", DIM, target_recall=0.9)
    flat.add(*data)
    assert "tuning" not in flat.stats()
    with pytest.raises(InvalidInputError, match="target_recall"):
        make_index("faiss-hnsw", DIM, target_recall=1.5)
