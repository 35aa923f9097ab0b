"""Activity quartiles and the new-user replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gbrec_core.evaluation.segments import (
    activity_segments,
    new_user_metrics,
    new_user_sample,
    segment_rows,
)
from gbrec_core.models import make_recommender
from gbrec_core.models.metrics import hit_matrix, per_user_metrics

from ..skewed_ratings import skewed_ratings


def _train(counts: dict[int, int]) -> pd.DataFrame:
    rows = [(u, b, 4) for u, n in counts.items() for b in range(1, n + 1)]
    return pd.DataFrame(rows, columns=["user_id", "book_id", "rating"])


def test_quartiles_by_training_ratings_by_hand() -> None:
    counts = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8}
    # Quartiles of 1..8: 2.75, 4.5, 6.25 -> {1, 2}, {3, 4}, {5, 6}, {7, 8}; user 9 has none.
    labels = activity_segments(_train(counts), np.array([1, 2, 3, 4, 5, 6, 7, 8]))
    assert labels.tolist() == [
        "Q1 (1-2 ratings)",
        "Q1 (1-2 ratings)",
        "Q2 (3-4 ratings)",
        "Q2 (3-4 ratings)",
        "Q3 (5-6 ratings)",
        "Q3 (5-6 ratings)",
        "Q4 (7-8 ratings)",
        "Q4 (7-8 ratings)",
    ]


def test_tied_counts_share_a_bin_and_empty_bins_are_not_shown() -> None:
    labels = activity_segments(_train({1: 3, 2: 3, 3: 3, 4: 9}), np.array([1, 2, 3, 4, 5]))
    # Counts 3, 3, 3, 9, 0 (user 5 rated nothing in training); quartiles 3, 3, 3.
    q1, q4 = "Q1 (0-3 ratings)", "Q4 (9-9 ratings)"
    assert labels.tolist() == [q1, q1, q1, q4, q1]
    per_user = {"ndcg": np.array([0.1, 0.2, 0.3, 0.4, 0.5]), "recall": np.ones(5)}
    rows = segment_rows(labels, per_user, "als")
    assert [(r["segment"], r["users"]) for r in rows] == [
        ("all users", 5),
        ("Q1 (0-3 ratings)", 4),
        ("Q4 (9-9 ratings)", 1),
    ]
    assert rows[1]["ndcg"] == pytest.approx((0.1 + 0.2 + 0.3 + 0.5) / 4)


def test_new_user_sample_takes_the_first_liked_books_in_file_order() -> None:
    train = pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2, 2, 3],
            "book_id": [10, 11, 12, 13, 20, 21, 30],
            "rating": [5, 2, 4, 5, 1, 2, 4],
        }
    )
    sample = new_user_sample(train, np.array([1, 2, 3]), seeds=2, max_users=10)
    assert {u: b.tolist() for u, b in sample.items()} == {1: [10, 12], 3: [30]}
    capped = new_user_sample(train, np.array([1, 2, 3]), seeds=2, max_users=1, seed=4)
    assert len(capped) == 1 and set(capped) <= {1, 3}


@pytest.mark.parametrize("family", ["popularity", "als", "ease"])
def test_batched_replay_matches_recommend_from_items_one_reader_at_a_time(family: str) -> None:
    ratings = skewed_ratings(3, users=40, books=80, rows=700)
    cut = int(len(ratings) * 0.8)
    train, test = ratings.iloc[:cut], ratings.iloc[cut:]
    test = test[test["user_id"].isin(train["user_id"])]
    kwargs = {"factors": 8, "iterations": 3} if family == "als" else {}
    model = make_recommender(family, **kwargs).fit(train)
    users = np.unique(test["user_id"].to_numpy())
    sample = new_user_sample(train, users, seeds=3, max_users=100)
    assert len(sample) > 10
    got = new_user_metrics(model, sample, test, k=5)
    readers = sorted(sample)
    lists = np.stack([model.recommend_from_items(sample[u], 5)[0] for u in readers])
    pairs = test[test["user_id"].isin(readers)][["user_id", "book_id"]].drop_duplicates()
    rows = np.searchsorted(readers, pairs["user_id"].to_numpy())
    hits = hit_matrix(lists, rows, pairs["book_id"].to_numpy())
    expected = per_user_metrics(hits, np.bincount(rows, minlength=len(readers)), 5)
    np.testing.assert_allclose(got["ndcg"], expected["ndcg"])
    np.testing.assert_allclose(got["recall"], expected["recall"])
