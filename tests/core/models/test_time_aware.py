"""Time-aware scoring: recency-weighted EASE / ALS histories, time-decayed popularity,
and the hybrid choosing them only when validation says they help.

Planted "drift" data: books come in genres; every reader starts in one genre and
moves to another halfway through their history, so what they read last predicts what
comes next. The "static" control draws each reader's books from two genres in no
order: there the order carries no signal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.errors import InvalidInputError, ModelLoadError
from gbrec_core.models import HybridRecommender, load_recommender, make_recommender
from gbrec_core.models.base import IdMap, entry_times, interactions, recency_ranks

GENRES, PER_GENRE, READERS, LENGTH = 6, 15, 480, 12


def genre_books(genre: int) -> np.ndarray:
    return np.arange(genre * PER_GENRE, (genre + 1) * PER_GENRE) + 1


def drift_ratings(seed: int = 0) -> pd.DataFrame:
    """Each reader: LENGTH/2 books of a start genre, then LENGTH/2 of another; readers
    take turns, so global row order interleaves them (time order)."""
    rng = np.random.default_rng(seed)
    histories = []
    for _ in range(READERS):
        start, end = rng.choice(GENRES, 2, replace=False)
        first = rng.choice(genre_books(start), LENGTH // 2, replace=False)
        second = rng.choice(genre_books(end), LENGTH // 2, replace=False)
        histories.append(np.concatenate([first, second]))
    return interleaved(histories, rng)


def static_ratings(seed: int = 1) -> pd.DataFrame:
    """Each reader: LENGTH books drawn from two genres at random, with no order: what
    they read last says no more than what they read first."""
    rng = np.random.default_rng(seed)
    histories = []
    for _ in range(READERS):
        genres = rng.choice(GENRES, 2, replace=False)
        pool = np.concatenate([genre_books(g) for g in genres])
        histories.append(rng.choice(pool, LENGTH, replace=False))
    return interleaved(histories, rng)


def interleaved(histories: list[np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
    """The readers' histories as ratings (4 or 5 stars), readers taking turns: row order
    interleaves them as time would."""
    rows = [
        (reader + 1, int(books[step]), int(rng.choice([4, 5])))
        for step in range(LENGTH)
        for reader, books in enumerate(histories)
    ]
    return pd.DataFrame(rows, columns=["user_id", "book_id", "rating"])


def genre_shares(ids: np.ndarray, genre: int) -> float:
    return float(np.isin(ids, genre_books(genre)).mean())


def test_entry_times_keep_the_latest_rating_and_ranks_count_from_it() -> None:
    ratings = pd.DataFrame(
        {"user_id": [1, 1, 2, 1, 1], "book_id": [5, 6, 5, 5, 7], "rating": [3, 4, 5, 2, 4]}
    )
    users, items = IdMap.from_values(ratings["user_id"]), IdMap.from_values(ratings["book_id"])
    seen = interactions(ratings, users, items)
    times = entry_times(ratings, users, items, seen)
    np.testing.assert_array_equal(times, [3.0, 1.0, 4.0, 2.0])  # user 1: books 5, 6, 7
    np.testing.assert_array_equal(recency_ranks(seen, times), [1, 2, 0, 0])
    timed = ratings.assign(time=[10.0, 30.0, 5.0, 20.0, 40.0])
    np.testing.assert_array_equal(entry_times(timed, users, items, seen), [20.0, 30.0, 40.0, 5.0])


@pytest.mark.parametrize("family", ["ease", "als"])
def test_recency_weighting_moves_lists_to_recent_reads(family: str) -> None:
    ratings = drift_ratings()
    base = {"ease": {"l2": 20.0}, "als": {"factors": 8, "iterations": 10, "num_threads": 1}}
    plain = make_recommender(family, **base[family]).fit(ratings)
    recent = make_recommender(family, **base[family], half_life=0.25).fit(ratings)
    readers = np.arange(1, 61)
    last = ratings.groupby("user_id")["book_id"].last().loc[readers].to_numpy()
    end_genre = (last - 1) // PER_GENRE
    share = {}
    for label, model in (("plain", plain), ("recent", recent)):
        ids, _ = model.recommend(readers, k=5)
        share[label] = np.mean([genre_shares(ids[i], end_genre[i]) for i in range(len(readers))])
    assert share["recent"] > share["plain"] + 0.2, share
    assert share["recent"] > 0.8, share


def test_seed_readers_have_no_order_so_recency_changes_nothing() -> None:
    ratings = drift_ratings()
    plain = make_recommender("ease", l2=20.0).fit(ratings)
    recent = make_recommender("ease", l2=20.0, half_life=0.25).fit(ratings)
    seeds = np.concatenate([genre_books(0)[:3], genre_books(1)[:3]])
    for a, b in zip(
        plain.recommend_from_items(seeds, k=8), recent.recommend_from_items(seeds, k=8), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("family", ["ease", "als"])
def test_known_users_score_as_their_timed_history_and_explanations_add_up(family: str) -> None:
    """Offline and online agree: ``score_rows`` (what serving ranks) is the timed
    history's score, and the explanation's terms sum to it."""
    config = {"ease": {"l2": 20.0}, "als": {"factors": 8, "iterations": 10, "num_threads": 1}}
    model = make_recommender(family, **config[family], half_life=0.25).fit(drift_ratings())
    assert model.seen is not None and model.users is not None
    row = np.array([model.users.position(7)])
    history, times = model.seen[row], model.times_of(row)
    direct = model.score_rows(row)[0]
    np.testing.assert_allclose(model.score_history(history, times)[0], direct, rtol=1e-4, atol=1e-4)
    untimed = model.score_history(history)[0]
    assert not np.allclose(untimed, direct, atol=1e-3)
    column = int(np.argmax(direct))
    terms = model.contributions(history, column, times)
    assert terms.sum() == pytest.approx(float(direct[column]), rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("clock", ["row order", "epoch seconds"])
def test_recent_popularity_ranks_newly_popular_books_higher(clock: str) -> None:
    """Book 1 was the hit of the first half, book 2 of the second; book 1 has more
    ratings overall (book 3: a few early ones). Decayed from the end, book 2 leads;
    anchored at an early reader, book 1 does. A ``time`` column far from zero (epoch
    seconds) must decay the same as row numbers."""
    early = [(u, 1, 5) for u in range(1, 41)] + [(u, 3, 4) for u in range(1, 11)]
    late = [(u, 2, 5) for u in range(41, 71)]
    ratings = pd.DataFrame(early + late, columns=["user_id", "book_id", "rating"])
    if clock == "epoch seconds":
        ratings["time"] = 1.7e9 + 60.0 * np.arange(len(ratings))
    plain = make_recommender("popularity").fit(ratings)
    now = make_recommender("popularity", half_life=0.1).fit(ratings)
    local = make_recommender("popularity", half_life=0.1, anchor="user").fit(ratings)
    assert plain.recommend(np.array([999]), k=2)[0][0].tolist() == [1, 2]
    assert now.recommend(np.array([60]), k=3, exclude_seen=False)[0][0, 0] == 2
    assert local.recommend(np.array([5]), k=3, exclude_seen=False)[0][0, 0] == 1
    assert local.recommend(np.array([60]), k=3, exclude_seen=False)[0][0, 0] == 2


def test_a_time_aware_model_refuses_a_history_without_times() -> None:
    model = make_recommender("ease", l2=20.0, half_life=0.5).fit(drift_ratings())
    assert model.seen is not None and model.popularity is not None
    with pytest.raises(InvalidInputError, match="time-aware"):
        model.use_history(model.seen, model.popularity)
    with pytest.raises(InvalidInputError, match="one value per"):
        model.score_history(model.seen[:2], np.zeros(3))


def _hybrid(ratings: pd.DataFrame) -> HybridRecommender:
    model = make_recommender(
        "hybrid",
        parts=("ease", "popularity"),
        validation_users=READERS,
        l2_grid=(0.5, 2.0),
    ).fit(ratings)
    assert isinstance(model, HybridRecommender)
    return model


@pytest.fixture(scope="module")
def drifting() -> HybridRecommender:
    return _hybrid(drift_ratings())


def test_hybrid_picks_recency_on_drifting_data(drifting: HybridRecommender) -> None:
    assert getattr(drifting.chosen["ease"], "half_life", None) is not None, drifting.chosen
    assert drifting.needs_times and drifting.times is not None


def test_hybrid_stays_static_when_order_carries_no_signal() -> None:
    model = _hybrid(static_ratings())
    assert all(getattr(c, "half_life", None) is None for c in model.chosen.values()), model.chosen
    assert not model.needs_times and model.times is None


def test_time_aware_hybrid_round_trips(drifting: HybridRecommender, tmp_path: Path) -> None:
    path = drifting.save(tmp_path / "model")
    loaded = load_recommender(path)
    assert isinstance(loaded, HybridRecommender) and loaded.chosen == drifting.chosen
    readers = np.arange(1, 50)
    for a, b in zip(drifting.recommend(readers, k=6), loaded.recommend(readers, k=6), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.explain(np.array([1, 50]), user_id=3) == drifting.explain(
        np.array([1, 50]), user_id=3
    )


def test_a_saved_time_aware_model_without_its_times_does_not_load(tmp_path: Path) -> None:
    model = make_recommender("ease", l2=20.0, half_life=0.5).fit(drift_ratings())
    path = model.save(tmp_path / "model")
    with np.load(path / "arrays.npz") as data:
        arrays = {key: data[key] for key in data.files if key != "seen_times"}
    np.savez(path / "arrays.npz", **arrays)  # type: ignore[arg-type]
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["checksums"]["seen_times"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match="time-aware"):
        load_recommender(path)
    untimed = make_recommender("ease", l2=20.0).fit(drift_ratings()).save(tmp_path / "plain")
    with np.load(untimed / "arrays.npz") as data:
        assert "seen_times" not in data.files
