"""Separately saved shard folders opened as one index, and the embeddings stored beside it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import IndexLoadError, InvalidInputError
from gbrec_core.index import (
    build_shard,
    build_shard_set,
    load_embeddings,
    load_index,
    load_shards,
    make_index,
    save_embeddings,
    save_embeddings_shard,
)
from gbrec_core.index.synthetic import mf_vectors

DIM, N, SHARDS = 16, 3000, 3
META = {"model_version": "7", "source": "als_model"}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    ids = rng.choice(np.arange(1, 50_000), N, replace=False).astype(np.int64)
    return ids, mf_vectors(N, DIM, seed=11)


def _exact(ids: np.ndarray, vectors: np.ndarray) -> object:
    index = make_index("exact", DIM)
    index.add(ids, vectors)
    return index


def _corrupt(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 8] = bytes(b ^ 0xFF for b in raw[middle : middle + 8])
    path.write_bytes(bytes(raw))


def _build_set(folder: Path, kind: str, data: tuple[np.ndarray, np.ndarray]) -> None:
    ids, vectors = data
    for shard in range(SHARDS):  # as the asset does: one build per partition
        build_shard(folder, kind, ids, vectors, shard=shard, shards=SHARDS, meta=META).close()


@pytest.mark.parametrize("kind", ["exact", "faiss-flat"])
def test_shard_set_from_files_equals_one_exact_index(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray], kind: str
) -> None:
    ids, vectors = data
    _build_set(tmp_path / kind, kind, data)
    sharded = load_index(tmp_path / kind)
    oracle = _exact(ids, vectors)
    queries = mf_vectors(40, DIM, seed=12)
    exclude = [ids[i : i + 3] for i in range(40)]
    got_ids, got_scores = sharded.search(queries, 15, exclude=exclude)
    want_ids, want_scores = oracle.search(queries, 15, exclude=exclude)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(got_ids, want_ids)
    np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-5)
    stats = sharded.stats()
    assert stats["shards"] == SHARDS and stats["vectors"] == N
    assert sum(stats["shard_sizes"]) == N and min(stats["shard_sizes"]) > 0
    assert stats["meta"]["model_version"] == "7" and stats["meta"]["source"] == "als_model"
    # Partitioning is by id, so shard i holds exactly the books with id % shards == i.
    assert stats["shard_sizes"] == [int(np.sum(ids % SHARDS == i)) for i in range(SHARDS)]
    sharded.close()


def test_load_shards_combines_explicit_paths(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    _build_set(tmp_path / "set", "faiss-flat", data)
    paths = [tmp_path / "set" / f"shard-{i}" for i in range(SHARDS)]
    index = load_shards(paths)
    queries = mf_vectors(5, DIM, seed=1)
    np.testing.assert_array_equal(
        index.search(queries, 10)[0],
        _exact(ids, vectors).search(queries, 10)[0],  # type: ignore[attr-defined]
    )
    with pytest.raises(IndexLoadError, match="share ids"):
        load_shards([paths[0], paths[0]])
    with pytest.raises(InvalidInputError):
        load_shards([])


def test_corrupted_shard_file_raises_index_load_error(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    _build_set(tmp_path / "hnsw", "hnsw", data)
    victim = next((tmp_path / "hnsw" / "shard-1").glob("*.hnsw"))
    _corrupt(victim)
    with pytest.raises(IndexLoadError, match="checksum mismatch"):
        load_index(tmp_path / "hnsw")


def test_missing_shard_folder_raises_index_load_error(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    build_shard(tmp_path / "s", "exact", ids, vectors, shard=0, shards=2, meta=META).close()
    with pytest.raises(IndexLoadError, match="shard-1 is missing"):
        load_index(tmp_path / "s")


def test_one_partition_rebuilt_keeps_the_set_valid_and_stale_vectors_are_caught(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    folder = tmp_path / "set"
    _build_set(folder, "exact", data)
    manifest = (folder / "shards.json").read_text()
    build_shard(folder, "exact", ids, vectors, shard=1, shards=SHARDS, meta=META).close()
    assert (folder / "shards.json").read_text() == manifest
    assert len(load_index(folder)) == N
    newer = {**META, "fingerprint": "newer-vectors"}
    build_shard(folder, "exact", ids, vectors * 2, shard=2, shards=SHARDS, meta=newer).close()
    with pytest.raises(IndexLoadError, match="different embeddings"):
        load_index(folder)


def test_shard_from_another_partitioning_is_refused(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    _build_set(tmp_path / "set", "exact", data)
    build_shard(tmp_path / "other", "exact", ids, vectors, shard=0, shards=2).close()
    spec = json.loads((tmp_path / "set" / "shards.json").read_text())
    (tmp_path / "set" / "shard-0").rename(tmp_path / "old")
    (tmp_path / "other" / "shard-0").rename(tmp_path / "set" / "shard-0")
    assert spec["shards"] == SHARDS
    with pytest.raises(IndexLoadError, match="stale partition"):
        load_index(tmp_path / "set")


def test_build_shard_set_and_embeddings_round_trip(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    index = build_shard_set(tmp_path / "idx", "faiss-flat", ids, vectors, shards=2, meta=META)
    assert index.stats()["shards"] == 2 and len(index) == N
    save_embeddings(tmp_path / "emb", ids, vectors, shards=2, meta=META)
    stored = load_embeddings(tmp_path / "emb")
    assert len(stored) == N and stored.source == "als_model" and stored.model_version == "7"
    book = int(ids[17])
    np.testing.assert_array_equal(stored.vector_of(book), vectors[17:18])
    assert stored.vector_of(int(ids.max()) + 1) is None
    order = np.argsort(ids)
    np.testing.assert_array_equal(stored.book_ids, ids[order])


def test_embeddings_partition_corrupted_or_from_another_set(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    ids, vectors = data
    save_embeddings(tmp_path / "emb", ids, vectors, shards=2, meta=META)
    save_embeddings_shard(tmp_path / "emb", ids, vectors + 1, shard=1, shards=2, meta=META)
    with pytest.raises(IndexLoadError, match="different embeddings"):
        load_embeddings(tmp_path / "emb")
    save_embeddings(tmp_path / "emb", ids, vectors, shards=2, meta=META)
    _corrupt(tmp_path / "emb" / "shard-0" / "vectors.npy")
    with pytest.raises(IndexLoadError, match="checksum mismatch"):
        load_embeddings(tmp_path / "emb")
