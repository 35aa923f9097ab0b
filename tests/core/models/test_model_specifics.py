"""Behaviour specific to each algorithm, beyond the shared contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gbrec_core.data import generate, load_dataset, temporal_split
from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation import evaluate
from gbrec_core.models import books_with_tags, make_recommender
from gbrec_core.models.als import confidence
from gbrec_core.models.ease import gram, solve_ease

from .model_contract import GROUP_A_USERS, planted_books, planted_ratings


def test_confidence_kinds() -> None:
    r = np.array([1, 3, 4, 5], dtype=np.int8)
    np.testing.assert_allclose(confidence(r, 2.0, "linear"), [3, 7, 9, 11])
    np.testing.assert_allclose(confidence(r, 2.0, "binary"), [3, 3, 3, 3])
    np.testing.assert_allclose(confidence(r, 2.0, "liked"), [3, 3, 5, 5])
    with pytest.raises(InvalidInputError):
        make_recommender("als", factors=0)


def test_als_vectors_reproduce_scores() -> None:
    model = make_recommender("als", factors=4, iterations=5, num_threads=1).fit(planted_ratings())
    vectors = model.item_vectors()
    assert vectors is not None and vectors.vectors.dtype == np.float32
    users = np.array([GROUP_A_USERS[0], 777777])
    queries = model.user_vectors(users)
    assert queries is not None and np.all(queries[1] == 0)
    ids, scores = model.recommend(users[:1], k=3, exclude_seen=False)
    by_inner = queries[0] @ vectors.vectors.T
    np.testing.assert_array_equal(ids[0], vectors.book_ids[np.argsort(-by_inner)[:3]])
    np.testing.assert_allclose(scores[0], np.sort(by_inner)[::-1][:3], rtol=1e-5)


def test_ease_matches_dense_closed_form() -> None:
    rng = np.random.default_rng(1)
    x = sp.random(60, 25, density=0.3, random_state=rng, format="csc", dtype=np.float32)
    x.data[:] = 1.0
    dense = x.toarray().astype(np.float64)
    precision = np.linalg.inv(dense.T @ dense + 3.0 * np.eye(25))
    expected = np.eye(25) - precision / np.diag(precision)
    got = solve_ease(gram(x, block=7), 3.0, block=4)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.all(np.diag(got) == 0)


def test_ease_caps_catalogue_to_popular_items() -> None:
    ratings = planted_ratings()
    model = make_recommender("ease", l2=10.0, max_items=15).fit(ratings)
    assert model.weights is not None and model.weights.shape == (15, 15)
    ids, _ = model.recommend(GROUP_A_USERS[:3], k=30)
    assert np.all(ids[:, :5] >= 0)


def test_hybrid_weight_chosen_on_validation() -> None:
    ratings, books = planted_ratings(per_user=12), planted_books()
    without_books = make_recommender("hybrid", ease={"l2": 10.0}).fit(ratings)
    assert without_books.weight == 0.0
    fixed = make_recommender("hybrid", weight=0.3, cf="als", als={"factors": 4}).fit(ratings, books)
    assert fixed.weight == 0.3 and fixed.item_vectors() is not None
    chosen = make_recommender("hybrid", ease={"l2": 10.0}, weight_grid=(0.0, 0.5, 1.0))
    chosen.fit(ratings, books)
    assert chosen.weight in (0.0, 0.5, 1.0)


@pytest.fixture(scope="module")
def tiny_split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        data = load_dataset(generate("tiny", Path(folder), seed=11))
    split = temporal_split(data.ratings)
    return split.train, split.test, books_with_tags(data.books, data.book_tags, data.tags)


@pytest.mark.parametrize("name", ["als", "ease", "hybrid"])
def test_collaborative_models_beat_popularity(
    name: str, tiny_split: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    train, test, books = tiny_split
    base = evaluate(make_recommender("popularity").fit(train, books), train, test)
    model = evaluate(make_recommender(name).fit(train, books), train, test)
    assert model["ndcg"] > base["ndcg"] and model["coverage"] > base["coverage"]


def test_content_beats_random_on_generated_tags(
    tiny_split: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    train, test, books = tiny_split
    got = evaluate(make_recommender("content").fit(train, books), train, test)
    items = int(pd.concat([train["book_id"], books["book_id"]]).nunique())
    per_user = test.groupby("user_id").size().mean()
    assert got["precision"] > 2 * per_user / items
