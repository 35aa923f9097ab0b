"""The lean rating-matrix path, implicit-default equivalence and hybrid model selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gbrec_core.evaluation import evaluate
from gbrec_core.models import ALSRecommender, make_recommender
from gbrec_core.models.base import IdMap, interactions
from gbrec_core.models.hybrid import IMPLICIT_DEFAULTS
from gbrec_core.models.selection import choose_weights, validation_split


@pytest.mark.parametrize(
    "ids", [np.array([5, 3, 9, 3, 0]), np.array([10**12, 7, 10**12 + 5]), np.array([-4, 2, 8])]
)
def test_id_map_lookup_table_agrees_with_search(ids: np.ndarray) -> None:
    mapping = IdMap.from_values(ids)
    np.testing.assert_array_equal(mapping.ids, np.unique(ids))
    queries = np.concatenate([ids, [1, -1, 11, 10**13]])
    expected = [
        int(np.flatnonzero(mapping.ids == q)[0]) if q in mapping.ids else -1 for q in queries
    ]
    np.testing.assert_array_equal(mapping.index_of(queries), expected)
    np.testing.assert_array_equal(
        mapping.index_of(queries.astype(np.int32) if ids.max() < 100 else queries), expected
    )


def test_interactions_is_canonical_float32_and_sums_duplicates() -> None:
    ratings = pd.DataFrame(
        {"user_id": [7, 3, 7, 3], "book_id": [2, 9, 2, 2], "rating": [4, 5, 1, 3]}
    )
    users, items = IdMap.from_values(ratings["user_id"]), IdMap.from_values(ratings["book_id"])
    matrix = interactions(ratings, users, items)
    assert matrix.dtype == np.float32 and matrix.indices.dtype == np.int32
    assert matrix.has_canonical_format
    np.testing.assert_array_equal(matrix.toarray(), [[3, 5], [5, 0]])


def _random_ratings(seed: int, users: int = 60, items: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pairs = {
        (int(u), int(b))
        for u, b in zip(
            rng.integers(1, users + 1, 900), rng.integers(1, items + 1, 900), strict=True
        )
    }
    frame = pd.DataFrame(sorted(pairs), columns=["user_id", "book_id"])
    frame["rating"] = rng.integers(1, 6, len(frame))
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_implicit_default_candidate_is_implicits_own_model() -> None:
    from implicit.cpu.als import AlternatingLeastSquares

    ratings = _random_ratings(0)
    ours = ALSRecommender(IMPLICIT_DEFAULTS, factors=8, num_threads=1).fit(ratings)
    assert ours.seen is not None
    theirs = AlternatingLeastSquares(factors=8, random_state=42, num_threads=1)
    theirs.fit(ours.seen, show_progress=False)
    np.testing.assert_allclose(ours.item_factors, theirs.item_factors, rtol=1e-5, atol=1e-6)


def test_refresh_users_solves_exactly_for_fixed_items() -> None:
    model = make_recommender("als", factors=6, iterations=5, num_threads=1).fit(_random_ratings(1))
    before = model.user_factors.copy()
    model.refresh_users(np.arange(5))
    # The weighted least-squares solution (Hu et al. 2008), written out densely.
    y = model.item_factors.astype(np.float64)
    conf = model._confidence_matrix(np.arange(5)).toarray().astype(np.float64)
    for user in range(5):
        c = np.where(conf[user] > 0, conf[user], 1.0)
        a = y.T @ (c[:, None] * y) + model.config.regularization * np.eye(y.shape[1])
        b = y.T @ np.where(conf[user] > 0, c, 0.0)
        np.testing.assert_allclose(
            model.user_factors[user], np.linalg.solve(a, b), rtol=1e-3, atol=1e-4
        )
    np.testing.assert_array_equal(model.user_factors[5:], before[5:])


def test_validation_split_holds_out_sampled_users_tails_only() -> None:
    ratings = _random_ratings(2)
    users, items = IdMap.from_values(ratings["user_id"]), IdMap.from_values(ratings["book_id"])
    split = validation_split(ratings, users, items, 0.25, n_users=10, seed=0)
    assert split is not None
    removed = ratings.merge(split.inner, how="left", indicator=True)
    removed = removed[removed["_merge"] == "left_only"]
    assert removed["user_id"].nunique() <= 10
    for user, rows in removed.groupby("user_id"):
        history = ratings[ratings["user_id"] == user]
        tail = history.iloc[len(history) - len(rows) :]
        assert len(rows) == int(np.floor(len(history) * 0.25))
        pd.testing.assert_frame_equal(
            rows[["user_id", "book_id", "rating"]].reset_index(drop=True),
            tail.reset_index(drop=True),
        )
    held_users = users.ids[split.user_idx[split.rows]]
    held_books = items.ids[split.items]
    positives = removed[removed["rating"] >= 4]
    assert sorted(zip(held_users, held_books, strict=True)) == sorted(
        zip(positives["user_id"], positives["book_id"], strict=True)
    )
    assert split.seen.nnz == len(split.inner)


def test_choose_weights_never_loses_to_the_first_part() -> None:
    ratings = _random_ratings(3)
    users, items = IdMap.from_values(ratings["user_id"]), IdMap.from_values(ratings["book_id"])
    split = validation_split(ratings, users, items, 0.3, n_users=60, seed=0)
    assert split is not None
    truth = np.zeros((split.user_idx.shape[0], len(items)), dtype=np.float32)
    truth[split.rows, split.items] = 1.0
    noise = np.random.default_rng(0).normal(size=truth.shape).astype(np.float32)
    weights, best = choose_weights(split, [truth, noise], (0.1, 0.5, 1.0))
    assert weights == [1.0, 0.0] and best == pytest.approx(1.0)


def paired_series(n_users: int = 400, n_pairs: int = 60, seed: int = 0) -> pd.DataFrame:
    """Books come in pairs read back to back: item-item structure that EASE captures
    exactly and a 2-factor ALS cannot (the planted 'clearly better' component)."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        for pair in rng.choice(n_pairs, 6, replace=False):
            rows += [(user, 2 * pair + 1, 5), (user, 2 * pair + 2, 5)]
    return pd.DataFrame(rows, columns=["user_id", "book_id", "rating"])


def test_hybrid_validation_picks_the_clearly_better_part() -> None:
    ratings = paired_series()
    # The test split: each user's last pair, second book only (its first is known).
    last = ratings.groupby("user_id").tail(1)
    train = ratings.drop(index=last.index)
    config = {"parts": ("als", "ease"), "ease": {"l2": 5.0}, "validation_users": 400}
    hybrid = make_recommender("hybrid", **config, als_candidates=({"factors": 2},)).fit(train)
    assert hybrid.mix.get("ease", 0.0) > hybrid.mix.get("als", 0.0)
    als = make_recommender("als", factors=2, num_threads=1).fit(train)
    ease = make_recommender("ease", l2=5.0).fit(train)
    scores = {
        m: evaluate(x, train, last)["ndcg"]
        for m, x in [("als", als), ("ease", ease), ("hybrid", hybrid)]
    }
    assert scores["ease"] > scores["als"] + 0.2  # the planted gap is real ...
    assert scores["hybrid"] >= scores["ease"] - 0.02  # ... and selection follows it
