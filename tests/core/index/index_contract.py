"""The contract every vector-index kind passes, with the exact index as the oracle."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from gbrec_core.errors import IndexLoadError, InvalidInputError
from gbrec_core.index import VectorIndex, load_index, make_index
from gbrec_core.index.synthetic import mf_vectors

DIM = 16
N = 2000


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [
        len(set(f[f >= 0]) & set(t[t >= 0])) / max(1, (t >= 0).sum())
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits))


class IndexContract:
    kind: ClassVar[str]
    min_recall: ClassVar[float] = 0.95
    score_atol: ClassVar[float] = 0.02
    extra: dict[str, Any]

    @pytest.fixture(autouse=True)
    def _setup(self) -> None:
        self.extra = {}
        rng = np.random.default_rng(7)
        self.ids = rng.permutation(10 * N)[:N].astype(np.int64) + 1
        self.vectors = mf_vectors(N, DIM, rank=8, seed=3)
        self.queries = mf_vectors(40, DIM, rank=8, seed=4)

    def make(self, **kwargs: Any) -> VectorIndex:
        kwargs.setdefault("dim", DIM)
        return make_index(self.kind, **kwargs, **self.extra)

    def filled(self, **kwargs: Any) -> VectorIndex:
        index = self.make(**kwargs)
        index.add(self.ids, self.vectors)
        return index

    def oracle(self, metric: str = "ip") -> VectorIndex:
        index = make_index("exact", DIM, metric)
        index.add(self.ids, self.vectors)
        return index

    # ---- search results -------------------------------------------------------------
    def test_shapes_dtypes_and_known_ids(self) -> None:
        ids, scores = self.filled().search(self.queries, 10)
        assert ids.shape == scores.shape == (40, 10)
        assert ids.dtype == np.int64 and scores.dtype == np.float32
        assert np.isin(ids, self.ids).all()

    def test_agrees_with_exact_oracle(self) -> None:
        ids, scores = self.filled().search(self.queries, 10)
        truth, _ = self.oracle().search(self.queries, 10)
        assert recall_at(ids, truth) >= self.min_recall
        assert np.all(np.diff(scores, axis=1) <= 1e-4), "scores must be best first"
        lookup = dict(zip(self.ids.tolist(), self.vectors, strict=True))
        true_scores = np.array(
            [[self.queries[r] @ lookup[i] for i in row] for r, row in enumerate(ids)]
        )
        assert np.allclose(scores, true_scores, atol=0.05 * np.abs(true_scores).max())

    def test_single_vector_query(self) -> None:
        ids, _ = self.filled().search(self.queries[0], 5)
        assert ids.shape == (1, 5)

    def test_pads_when_k_exceeds_size(self) -> None:
        index = self.make()
        index.add(self.ids[:5], self.vectors[:5])
        ids, scores = index.search(self.queries[:3], 8)
        assert sorted(ids[0, :5].tolist()) == sorted(self.ids[:5].tolist())
        assert (ids[:, 5:] == -1).all() and np.isneginf(scores[:, 5:]).all()

    def test_empty_index_returns_padding(self) -> None:
        ids, scores = self.make().search(self.queries[:2], 3)
        assert (ids == -1).all() and np.isneginf(scores).all()

    def test_exclusions_keep_k_results(self) -> None:
        truth, _ = self.oracle().search(self.queries, 15)
        drop = [row[:5] for row in truth]
        ids, _ = self.filled().search(self.queries, 10, exclude=drop)
        assert (ids >= 0).all()
        for row, dropped in zip(ids, drop, strict=True):
            assert not set(row) & set(dropped)
        assert recall_at(ids, truth[:, 5:]) >= self.min_recall

    # ---- persistence ------------------------------------------------------------------
    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        index = self.filled()
        before = index.search(self.queries, 10)
        index.save(tmp_path / "idx")
        loaded = load_index(tmp_path / "idx")
        after = loaded.search(self.queries, 10)
        assert loaded.kind == index.kind and len(loaded) == N and loaded.dim == DIM
        np.testing.assert_array_equal(after[0], before[0])
        np.testing.assert_allclose(after[1], before[1], rtol=1e-5)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp dir left over"

    def test_corrupted_file_raises(self, tmp_path: Path) -> None:
        path = self.filled().save(tmp_path / "idx")
        files = json.loads((path / "manifest.json").read_text())["files"]
        victim = (
            path / max(files, key=lambda n: files[n]["bytes"]) if files else path / "manifest.json"
        )
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
        with pytest.raises(IndexLoadError):
            load_index(path)

    def test_partial_or_foreign_folder_raises(self, tmp_path: Path) -> None:
        path = self.filled().save(tmp_path / "idx")
        for name in json.loads((path / "manifest.json").read_text())["files"]:
            (path / name).unlink()
            with pytest.raises(IndexLoadError, match="partial"):
                load_index(path)
            break
        (tmp_path / "foreign").mkdir()
        (tmp_path / "foreign" / "manifest.json").write_text('{"format": "something-else"}')
        with pytest.raises(IndexLoadError):
            load_index(tmp_path / "foreign")
        with pytest.raises(IndexLoadError):
            load_index(tmp_path / "missing")

    # ---- metric, shards, stats, async, input checks -------------------------------------
    def test_cosine_finds_each_vector_itself(self) -> None:
        index = self.filled(metric="cosine")
        ids, scores = index.search(self.vectors[:20] * 3.0, 1)
        assert (ids[:, 0] == self.ids[:20]).mean() >= self.min_recall
        assert np.allclose(scores[:, 0], 1.0, atol=self.score_atol)

    def test_sharded_matches_oracle(self) -> None:
        ids, _ = self.filled(shards=3).search(self.queries, 10)
        truth, _ = self.oracle().search(self.queries, 10)
        assert recall_at(ids, truth) >= self.min_recall

    def test_stats(self) -> None:
        index = self.filled()
        index.search(self.queries, 5)
        stats = index.stats()
        assert stats["kind"] == self.kind and stats["vectors"] == N and stats["dim"] == DIM
        assert sum(stats["shard_sizes"]) == N and stats["bytes"] > 0 and stats["healthy"]
        assert stats["latency"]["p50_ms"] > 0 and stats["searches"] == 1

    @pytest.mark.parametrize("batching", [False, True])
    def test_asearch_matches_search(self, batching: bool) -> None:
        index = self.filled(batching=batching)
        expected, _ = index.search(self.queries, 10)

        async def run() -> list[np.ndarray]:
            results = await asyncio.gather(*(index.asearch(q, 10) for q in self.queries))
            return [r[0][0] for r in results]

        np.testing.assert_array_equal(np.vstack(asyncio.run(run())), expected)

    def test_rejects_bad_input(self) -> None:
        index = self.filled()
        with pytest.raises(InvalidInputError):
            index.search(np.ones((2, DIM + 1), np.float32), 3)
        with pytest.raises(InvalidInputError):
            index.add(self.ids[:2], self.vectors[:2])
        with pytest.raises(InvalidInputError):
            index.search(self.queries, 0)
