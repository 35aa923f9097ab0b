"""Novelty, intra-list diversity, popularity bias: hand-computed cases and a
straightforward re-implementation of ILD as the oracle."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.evaluation.beyond import (
    average_popularity,
    beyond_accuracy,
    catalogue_stats,
    head_share,
    holdout_lists,
    intra_list_diversity,
    novelty,
    tagged_share,
)

# 4 training users; book 1 rated by all 4, book 2 by 2, book 3 by 1, books 4..10 by nobody.
TRAIN = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 1, 2, 3],
        "book_id": [1, 1, 1, 1, 2, 2, 3],
        "rating": [5, 4, 3, 5, 4, 4, 2],
    }
)
BOOKS = pd.DataFrame(
    {
        "book_id": list(range(1, 11)),
        "tags": [
            {"fantasy": 3, "magic": 1},
            {"fantasy": 2},
            ["romance", "classic"],
            {},
            {"magic": 5, "classic": 1},
            *[{} for _ in range(5)],
        ],
    }
)


def test_novelty_is_mean_self_information_with_add_one_smoothing() -> None:
    stats = catalogue_stats(TRAIN, BOOKS)
    lists = np.array([[1, 2], [3, -1]])
    expected_u1 = (-math.log2(5 / 5) - math.log2(3 / 5)) / 2
    expected_u2 = -math.log2(2 / 5)
    assert novelty(lists, stats) == pytest.approx((expected_u1 + expected_u2) / 2)


def test_average_popularity_and_head_share() -> None:
    stats = catalogue_stats(TRAIN, BOOKS)
    lists = np.array([[1, 2], [3, 4]])
    # Shares of the 4 training users: book 1: 1, 2: 0.5, 3: 0.25, 4: 0.
    assert average_popularity(lists, stats) == pytest.approx(((1 + 0.5) / 2 + 0.25 / 2) / 2)
    # Three books were rated in training: the head is ceil(0.1 * 3) = 1 book, book 1.
    assert stats.head.sum() == 1 and stats.book_ids[stats.head].tolist() == [1]
    assert head_share(lists, stats) == pytest.approx(1 / 4)


def test_intra_list_diversity_by_hand() -> None:
    stats = catalogue_stats(TRAIN, BOOKS)
    # List 1: books 1 {fantasy, magic}, 2 {fantasy}, 5 {magic, classic}.
    #   d(1,2) = 1 - 1/2, d(1,5) = 1 - 1/3, d(2,5) = 1 - 0/3 -> mean (0.5 + 2/3 + 1) / 3.
    # List 2: books 3 {romance, classic}, 4 (no tags), 6 (no tags): no tagged pair, left out.
    lists = np.array([[1, 2, 5], [3, 4, 6]])
    assert intra_list_diversity(lists, stats) == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert tagged_share(lists, stats) == pytest.approx(4 / 6)


def test_diversity_is_nan_without_tags_and_identical_books_are_distance_zero() -> None:
    untagged = catalogue_stats(TRAIN, BOOKS.drop(columns=["tags"]))
    lists = np.array([[1, 2, 3]])
    assert math.isnan(intra_list_diversity(lists, untagged))
    assert tagged_share(lists, untagged) == 0.0
    got = beyond_accuracy(lists, catalogue_stats(TRAIN, None))
    assert math.isnan(got["ild"]) and got["tagged"] == 0.0 and got["novelty"] > 0
    same = pd.DataFrame({"book_id": [1, 2], "tags": [{"a": 1}, {"a": 9}]})
    assert intra_list_diversity(np.array([[1, 2]]), catalogue_stats(TRAIN, same)) == 0.0


def _ild_oracle(lists: np.ndarray, tags: dict[int, set[str]]) -> float:
    """Pairwise Jaccard distances with Python sets, one list at a time."""
    per_list = []
    for row in lists.tolist():
        tagged = [tags[b] for b in row if b >= 0 and tags.get(b)]
        pairs = list(itertools.combinations(tagged, 2))
        if pairs:
            per_list.append(np.mean([1 - len(a & b) / len(a | b) for a, b in pairs]))
    return float(np.mean(per_list)) if per_list else math.nan


def test_diversity_matches_a_set_based_oracle_on_random_lists() -> None:
    rng = np.random.default_rng(7)
    vocab = [f"t{i}" for i in range(12)]
    tags = {
        b: set(rng.choice(vocab, rng.integers(0, 5), replace=False).tolist()) for b in range(1, 61)
    }
    books = pd.DataFrame({"book_id": list(tags), "tags": [sorted(t) for t in tags.values()]})
    train = pd.DataFrame({"user_id": [1, 2], "book_id": [1, 2], "rating": [5, 5]})
    lists = np.array([rng.choice(np.arange(1, 61), 8, replace=False) for _ in range(40)])
    lists[3, 5:] = -1  # padding is ignored
    got = intra_list_diversity(lists, catalogue_stats(train, books))
    assert got == pytest.approx(_ild_oracle(lists, tags))


def test_holdout_lists_take_each_users_first_positives_in_file_order() -> None:
    test = pd.DataFrame({"user_id": [7, 5, 7, 7, 5], "book_id": [30, 10, 31, 32, 11]})
    got = holdout_lists(test, np.array([5, 7, 9]), k=2)
    assert got.tolist() == [[10, 11], [30, 31], [-1, -1]]


def test_real_catalogue_sample_has_few_tagged_books(goodbooks_dir: Path) -> None:
    from gbrec_core.data import load_book_tags, load_books, load_tags
    from gbrec_core.models import books_with_tags

    books = books_with_tags(
        load_books(goodbooks_dir / "books.csv"),
        load_book_tags(goodbooks_dir / "samples" / "book_tags.csv"),
        load_tags(goodbooks_dir / "tags.csv"),
    )
    stats = catalogue_stats(pd.DataFrame(columns=["user_id", "book_id", "rating"]), books)
    has_tags = books.loc[books["tags"].map(len) > 0, "book_id"].to_numpy()
    untagged = books.loc[books["tags"].map(len) == 0, "book_id"].to_numpy()
    assert 0 < len(has_tags) < 10  # 100 book_tags rows cover a handful of books
    assert math.isnan(intra_list_diversity(untagged[:10][None, :], stats))
    mixed = np.concatenate([has_tags[:1], untagged[:3]])[None, :]
    assert tagged_share(mixed, stats) == pytest.approx(1 / 4)
