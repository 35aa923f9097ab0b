"""build_version_shards: what one vector_index partition (or a single-run range) writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.index import (
    EMBEDDINGS_DIR,
    VersionShards,
    build_version_shards,
    fingerprint,
    load_embeddings,
    load_index,
    make_index,
)
from gbrec_core.index.synthetic import mf_vectors

DIM, N, SHARDS = 8, 600, 3
KINDS = ("exact", "faiss-flat")
META = {"model_version": "4", "source": "als_model"}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    ids = rng.choice(np.arange(1, 20_000), N, replace=False).astype(np.int64)
    return ids, mf_vectors(N, DIM, seed=6)


def _build(root: Path, data: tuple[np.ndarray, np.ndarray], shard_ids: list[int]) -> VersionShards:
    ids, vectors = data
    return build_version_shards(
        root, ids, vectors, shards=SHARDS, shard_ids=shard_ids, kinds=KINDS, meta=META
    )


def test_partitions_built_apart_open_as_one_index_equal_to_exact(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    first = _build(tmp_path, data, [0])
    rest = _build(tmp_path, data, [1, 2])
    assert first.fingerprint == rest.fingerprint == fingerprint(ids, vectors)
    assert set(rest.stats) == {f"{k}/shard-{i}" for k in KINDS for i in (1, 2)}
    json.dumps(rest.stats)  # plain JSON for Dagster metadata
    oracle = make_index("exact", DIM)
    oracle.add(ids, vectors)
    queries = mf_vectors(10, DIM, seed=7)
    for kind in KINDS:
        index = load_index(tmp_path / kind)
        assert index.stats()["meta"]["fingerprint"] == first.fingerprint
        np.testing.assert_array_equal(index.search(queries, 5)[0], oracle.search(queries, 5)[0])
        index.close()
    stored = load_embeddings(tmp_path / EMBEDDINGS_DIR)
    assert len(stored) == N and stored.model_version == "4" and stored.source == "als_model"


def test_only_the_selected_shards_are_written(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    built = _build(tmp_path, data, [1])
    for folder in (EMBEDDINGS_DIR, *KINDS):
        assert sorted(p.name for p in (tmp_path / folder).glob("shard-*")) == ["shard-1"]
    assert built.stats["exact/shard-1"]["vectors"] == int(np.sum(data[0] % SHARDS == 1))


def test_shard_outside_the_set_is_refused(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    with pytest.raises(InvalidInputError, match="shard must be in"):
        _build(tmp_path, data, [SHARDS])


def test_per_kind_build_params_reach_only_their_kind(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    """GBREC_INDEX_STORAGE=sq8 arrives as params for faiss-hnsw; other kinds get none."""
    from gbrec_core.settings import Settings

    ids, vectors = data
    settings = Settings(index_storage="sq8")  # type: ignore[call-arg]
    kinds = ("faiss-hnsw", "exact")
    built = build_version_shards(
        tmp_path,
        ids,
        vectors,
        shards=SHARDS,
        shard_ids=[0],
        kinds=kinds,
        meta=META,
        params={kind: settings.index_params(kind) for kind in kinds},
    )
    assert built.stats["faiss-hnsw/shard-0"]["params"]["storage"] == "sq8"
    assert "storage" not in built.stats["exact/shard-0"]["params"]
