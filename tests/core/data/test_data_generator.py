"""Synthetic generator: shape, determinism, realistic statistics and planted signal."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gbrec_core.data import SCALES, GoodbooksData, generate, load_dataset, temporal_split
from gbrec_core.data.dataset_validation import validate_dataset
from gbrec_core.data.report import ValidationConfig
from gbrec_core.data.schema import FILES
from gbrec_core.errors import InvalidInputError

REAL_SHARES = np.array([0.02, 0.06, 0.23, 0.36, 0.33])


def _check_statistics(data: GoodbooksData, scale: str) -> None:
    cfg = SCALES[scale]
    r = data.ratings
    assert r["user_id"].nunique() == cfg.n_users == r["user_id"].max()
    assert len(data.books) == cfg.n_books and data.books["book_id"].tolist()[-1] == cfg.n_books
    assert 3.85 < r["rating"].mean() < 3.99
    shares = np.bincount(r["rating"], minlength=6)[1:] / len(r)
    assert 0.5 * np.abs(shares - REAL_SHARES).sum() < 0.01
    per_user = r.groupby("user_id").size()
    assert per_user.min() >= 20 and per_user.max() > 2.5 * per_user.median()
    per_book = r["book_id"].value_counts()
    assert per_book.iloc[0] > 5 * per_book.median()  # long-tailed popularity
    assert per_book.index[0] == 1  # book ids follow popularity, as in the real file
    first_seen = r.drop_duplicates("user_id")["user_id"].to_numpy()
    assert (np.diff(first_seen) > 0).all()  # user ids numbered by first appearance in time


def _recall(recs: np.ndarray, users: np.ndarray, test: pd.DataFrame) -> float:
    truth = test.groupby("user_id")["book_id"].apply(set)
    hits = [
        len(set(rec) & truth[u]) / min(10, len(truth[u]))
        for u, rec in zip(users, recs, strict=True)
    ]
    return float(np.mean(hits))


def _als_and_popularity(ratings: pd.DataFrame, factors: int) -> tuple[float, float]:
    """Recall@10 of a plain implicit ALS and of popularity on the temporal split."""
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    split = temporal_split(ratings)
    n_u, n_b = ratings["user_id"].max() + 1, ratings["book_id"].max() + 1
    train = split.train
    matrix = sp.csr_matrix(
        (np.ones(len(train), np.float32), (train["user_id"], train["book_id"])), shape=(n_u, n_b)
    )
    users = np.unique(split.test["user_id"].to_numpy())
    pop = np.bincount(train["book_id"], minlength=n_b).astype(float)
    pop_recs = []
    for u in users:
        scores = pop.copy()
        scores[matrix[u].indices] = -1
        pop_recs.append(np.argsort(-scores, kind="stable")[:10])
    with threadpool_limits(1, "blas"):
        als = AlternatingLeastSquares(factors=factors, iterations=15, random_state=0)
        als.fit(matrix, show_progress=False)
    als_recs, _ = als.recommend(users, matrix[users], N=10, filter_already_liked_items=True)
    return _recall(als_recs, users, split.test), _recall(np.array(pop_recs), users, split.test)


def _genre_concentration(data: GoodbooksData) -> tuple[float, float]:
    """How concentrated users are on a book's top non-generic tag, vs chance."""
    bt = data.book_tags
    per_tag = bt.groupby("tag_id")["goodreads_book_id"].nunique()
    specific = bt[bt["tag_id"].isin(per_tag[per_tag < 0.5 * len(data.books)].index)]
    top = specific.sort_values("count", ascending=False).drop_duplicates("goodreads_book_id")
    genre = data.books.merge(top, on="goodreads_book_id")[["book_id", "tag_id"]]
    rated = data.ratings.merge(genre, on="book_id")
    user_share = rated.groupby("user_id")["tag_id"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    chance = rated["tag_id"].value_counts(normalize=True).iloc[0]
    return float(user_share.mean()), float(chance)


def test_writes_five_valid_files(tiny_dir: Path, goodbooks_dir: Path) -> None:
    assert all((tiny_dir / f).is_file() for f in FILES)
    assert validate_dataset(tiny_dir, config=ValidationConfig(min_user_ratings=20)).ok
    real_header = (goodbooks_dir / "books.csv").open().readline()
    assert (tiny_dir / "books.csv").open().readline() == real_header


def test_tiny_statistics(tiny_dir: Path) -> None:
    data = load_dataset(tiny_dir)
    _check_statistics(data, "tiny")
    assert len(data.to_read) > 0
    rated = set(zip(data.ratings.user_id, data.ratings.book_id, strict=True))
    assert not rated & set(zip(data.to_read.user_id, data.to_read.book_id, strict=True))
    books = data.books
    assert books["title"].nunique() > 0.5 * len(books)
    assert books["image_url"].str.startswith("https://").all()


def test_same_seed_byte_identical(tmp_path: Path, tiny_dir: Path) -> None:
    again = generate("tiny", tmp_path / "again", seed=7)
    match, mismatch, errors = filecmp.cmpfiles(tiny_dir, again, FILES, shallow=False)
    assert sorted(match) == sorted(FILES) and not mismatch and not errors
    other = generate("tiny", tmp_path / "other", seed=8)
    assert not filecmp.cmp(tiny_dir / "ratings.csv", other / "ratings.csv", shallow=False)


def test_unknown_scale(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown scale"):
        generate("huge", tmp_path)  # type: ignore[arg-type]


def test_planted_signal_tiny(tiny_dir: Path) -> None:
    data = load_dataset(tiny_dir)
    als, pop = _als_and_popularity(data.ratings, factors=16)
    assert als > pop, (als, pop)
    share, chance = _genre_concentration(data)
    assert share > 1.5 * chance, (share, chance)


@pytest.mark.slow
def test_small_scale_statistics_and_signal(tmp_path: Path) -> None:
    data = load_dataset(generate("small", tmp_path / "small", seed=42))
    _check_statistics(data, "small")
    als, pop = _als_and_popularity(data.ratings, factors=32)
    assert als > 1.3 * pop, (als, pop)
    share, chance = _genre_concentration(data)
    assert share > 2 * chance, (share, chance)
