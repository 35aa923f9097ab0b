"""Precomputed top-N tables: the same answers as the model, served from memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.models import make_recommender
from gbrec_core.models.base import Recommender
from gbrec_core.serving.precompute import Precomputer, TopNTable, build_table

from ..skewed_ratings import skewed_ratings
from .serving_fixtures import Fleet

SetChampion = Callable[[str], None]

FAMILIES: dict[str, dict[str, object]] = {
    "popularity": {},
    "als": {"factors": 8, "iterations": 3, "num_threads": 1},
    "ease": {},
}


def _assert_same_ranking(table: TopNTable, model: Recommender, users: np.ndarray, k: int) -> None:
    """Table rows equal the model's one-user answers, up to float rounding of the scores
    (books whose scores differ by less than 1e-5 may swap places)."""
    for user in users.tolist():
        hit = table.lookup(user, k)
        assert hit is not None
        ids, scores = model.recommend(np.array([user]), k=k)
        keep = ids[0] >= 0
        expected_ids, expected_scores = ids[0][keep], scores[0][keep]
        assert len(hit[0]) == len(expected_ids)
        np.testing.assert_allclose(hit[1], expected_scores, rtol=1e-5, atol=1e-6)
        gaps = np.abs(np.diff(expected_scores))
        clear = np.ones(len(expected_ids), dtype=bool)
        clear[:-1] &= gaps > 1e-5
        clear[1:] &= gaps > 1e-5
        assert (np.asarray(hit[0])[clear] == expected_ids[clear]).all()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_table_matches_the_model_for_every_user(family: str) -> None:
    ratings = skewed_ratings(5, users=300, books=200, rows=4000)
    model = make_recommender(family, **FAMILIES[family]).fit(ratings)  # type: ignore[arg-type]
    table = build_table("7", model, depth=50)
    assert model.users is not None
    assert table.ids.shape == (len(model.users), 50)
    for k in (1, 10, 50):
        _assert_same_ranking(table, model, model.users.ids, k)
    assert table.lookup(10**9, 10) is None  # unknown user: the model's fallback decides
    assert table.lookup(int(model.users.ids[0]), 51) is None  # deeper than the table


def test_short_lists_drop_the_padding() -> None:
    ratings = skewed_ratings(6, users=20, books=12, rows=400)  # users have read most books
    model = make_recommender("popularity").fit(ratings)
    table = build_table("1", model, depth=12)
    assert model.users is not None
    for user in model.users.ids.tolist():
        hit = table.lookup(user, 12)
        assert hit is not None
        seen = set(ratings.loc[ratings["user_id"] == user, "book_id"])
        assert -1 not in hit[0] and not set(hit[0]) & seen
        assert len(hit[0]) == len(set(model.items.ids.tolist()) - seen)  # type: ignore[union-attr]


def test_precomputer_builds_in_the_background_and_respects_its_budget() -> None:
    model = make_recommender("popularity").fit(skewed_ratings(1))
    assert model.users is not None
    precomputer = Precomputer(depth=20, max_bytes=len(model.users) * 20 * 8)
    try:
        precomputer.submit("1", model)
        precomputer.submit("1", model)  # queued once
        table = precomputer.wait("1", timeout=30)
        assert table is not None and table.depth == 20
        small = Precomputer(depth=20, max_bytes=len(model.users) * 20 * 8 - 1)
        small.submit("1", model)
        assert small.get("1") is None and "1" in small.stats()["skipped"]
        precomputer.retain(["2"])
        assert precomputer.get("1") is None
        stats = precomputer.stats()
        assert stats["failures"] == 0 and stats["tables"] == {}
    finally:
        precomputer.stop()


def test_server_answers_from_the_table_once_built(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("3")  # ALS
    server = fleet.server(tmp_path, precompute_depth=30)
    server.start(watch=False)
    try:
        model = fleet.models["3"]
        assert server.precomputed.wait("3", timeout=60) is not None
        assert model.users is not None
        for user in model.users.ids.tolist():
            rec = server.recommend(user, k=10)
            expected, _ = model.recommend(np.array([user]), k=10)
            assert (rec.version, rec.fallback) == ("3", False)
            assert rec.book_ids == [b for b in expected[0].tolist() if b >= 0]
        deep = server.recommend(int(model.users.ids[0]), k=40)  # beyond the table: the model
        assert deep.book_ids == model.recommend(model.users.ids[:1], k=40)[0][0].tolist()
        assert server.recommend(10_000, k=5).fallback
        assert "3" in server.stats()["precomputed"]["tables"]
    finally:
        server.stop()


def test_depth_zero_turns_precomputing_off(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    server = fleet.server(tmp_path, precompute_depth=0)
    server.start(watch=False)
    try:
        assert server.recommend(7, k=5).version == "1"
        assert server.precomputed.wait("1", timeout=1) is None
        assert server.stats()["precomputed"]["tables"] == {}
    finally:
        server.stop()
