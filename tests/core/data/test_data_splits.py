"""Per-user temporal and random splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gbrec_core.data import load_ratings, random_split, temporal_split
from gbrec_core.errors import InvalidInputError


@pytest.fixture(scope="module")
def ratings(tiny_dir: Path) -> pd.DataFrame:
    return load_ratings(tiny_dir / "ratings.csv")


def test_temporal_holds_out_last_fifth_in_file_order() -> None:
    frame = pd.DataFrame(
        {
            "user_id": [1] * 10 + [2] * 3 + [3],
            "book_id": [*range(10), 1, 2, 3, 4],
            "rating": [5, 5, 5, 5, 5, 5, 5, 5, 5, 3, 4, 4, 5, 5],
        }
    )
    split = temporal_split(frame)
    # user 1: last 2 held out, one of them (rating 3) is not a positive: dropped everywhere
    assert split.test.loc[split.test.user_id == 1, "book_id"].tolist() == [8]
    assert split.test.loc[split.test.user_id == 2, "book_id"].tolist() == [3]
    assert 3 not in split.test.user_id.tolist()  # a single rating always stays in train
    assert split.train.groupby("user_id").size().to_dict() == {1: 8, 2: 2, 3: 1}


def test_temporal_on_generated(ratings: pd.DataFrame) -> None:
    split = temporal_split(ratings)
    assert (split.test["rating"] >= 4).all()
    pos = ratings.reset_index().groupby("user_id")["index"]
    last_train = split.train.merge(ratings.reset_index(), on=["user_id", "book_id", "rating"])
    first_test = split.test.merge(ratings.reset_index(), on=["user_id", "book_id", "rating"])
    latest = last_train.groupby("user_id")["index"].max()
    earliest = first_test.groupby("user_id")["index"].min()
    assert (earliest > latest.reindex(earliest.index)).all()
    held = ratings.groupby("user_id").size() - split.train.groupby("user_id").size()
    expected = np.floor(ratings.groupby("user_id").size() * 0.2 + 0.5)
    assert (held == expected).all()
    assert pos.ngroups == split.train.user_id.nunique()
    pairs = set(zip(split.train.user_id, split.train.book_id, strict=True))
    assert not pairs & set(zip(split.test.user_id, split.test.book_id, strict=True))


def test_random_split_seeded_and_per_user(ratings: pd.DataFrame) -> None:
    a, b = random_split(ratings, seed=1), random_split(ratings, seed=1)
    pd.testing.assert_frame_equal(a.train, b.train)
    pd.testing.assert_frame_equal(a.test, b.test)
    c = random_split(ratings, seed=2)
    assert not a.test.equals(c.test)
    sizes = ratings.groupby("user_id").size()
    held = sizes - a.train.groupby("user_id").size()
    assert (held == np.floor(sizes * 0.2 + 0.5)).all()
    assert (a.test["rating"] >= 4).all()
    # random, not temporal: some held-out ratings precede kept ones
    t = temporal_split(ratings)
    assert not a.test.equals(t.test)


def test_invalid_arguments(ratings: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError):
        temporal_split(ratings, test_fraction=1.0)
    with pytest.raises(InvalidInputError, match="rating"):
        random_split(ratings.drop(columns="rating"))
