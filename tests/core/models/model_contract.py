"""The contract every recommender passes, as a mixin, plus planted data with known answers.

Planted data: two user groups with disjoint tastes. Group A (users 1..40) reads only
books 1..20 (tagged fantasy), group B (users 101..140) only books 21..40 (tagged
romance). Book 99 is in the catalogue (fantasy) but nobody rated it: a cold-start book.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from gbrec_core.errors import ModelLoadError
from gbrec_core.models import Recommender, load_recommender, make_recommender

GROUP_A_USERS = np.arange(1, 41)
GROUP_B_USERS = np.arange(101, 141)
GROUP_A_BOOKS = np.arange(1, 21)
GROUP_B_BOOKS = np.arange(21, 41)
COLD_BOOK = 99


def planted_ratings(seed: int = 0, per_user: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for users, books in ((GROUP_A_USERS, GROUP_A_BOOKS), (GROUP_B_USERS, GROUP_B_BOOKS)):
        # A few books are much more popular inside each group, like real data.
        weights = 1.0 / np.arange(1, books.shape[0] + 1) ** 0.7
        for user in users:
            chosen = rng.choice(books, per_user, replace=False, p=weights / weights.sum())
            for book in chosen:
                rows.append((user, book, int(rng.choice([3, 4, 4, 5, 5]))))
    frame = pd.DataFrame(rows, columns=["user_id", "book_id", "rating"])
    frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame.astype({"user_id": "int32", "book_id": "int32", "rating": "int8"})


def planted_books() -> pd.DataFrame:
    ids = np.concatenate([GROUP_A_BOOKS, GROUP_B_BOOKS, [COLD_BOOK]])
    fantasy = {"fantasy": 50.0, "magic": 20.0}
    romance = {"romance": 50.0, "love": 20.0}
    tags = [dict(fantasy) if b <= 20 or b == COLD_BOOK else dict(romance) for b in ids]
    authors = ["Ann Elf" if b <= 20 or b == COLD_BOOK else "Rose Heart" for b in ids]
    return pd.DataFrame(
        {
            "book_id": ids,
            "goodreads_book_id": ids + 1000,
            "title": [f"Book {b}" for b in ids],
            "authors": authors,
            "tags": tags,
        }
    )


class RecommenderContract:
    """Mixin: subclasses set ``model_name`` and ``config``; pytest collects the tests."""

    model_name: ClassVar[str]
    config: ClassVar[dict[str, Any]] = {}
    personalised: ClassVar[bool] = True

    def make(self) -> Recommender:
        return make_recommender(self.model_name, **self.config)

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls) -> Recommender:
        return make_recommender(cls.model_name, **cls.config).fit(
            planted_ratings(), planted_books()
        )

    def test_recommends_from_own_group(self, fitted: Recommender) -> None:
        if not self.personalised:
            pytest.skip("not a personalised model")
        for users, books in ((GROUP_A_USERS, GROUP_A_BOOKS), (GROUP_B_USERS, GROUP_B_BOOKS)):
            ids, _ = fitted.recommend(users, k=5)
            own = np.append(books, COLD_BOOK)
            assert np.isin(ids, own).mean() >= 0.95, ids

    def test_scores_sorted_and_shapes(self, fitted: Recommender) -> None:
        ids, scores = fitted.recommend(GROUP_A_USERS[:7], k=6)
        assert ids.shape == scores.shape == (7, 6)
        assert np.all(np.diff(scores, axis=1) <= 1e-6)
        assert all(len(set(row)) == len(row) for row in ids.tolist())

    def test_excludes_seen(self, fitted: Recommender) -> None:
        ratings = planted_ratings()
        users = np.concatenate([GROUP_A_USERS, GROUP_B_USERS])
        ids, _ = fitted.recommend(users, k=8)
        seen = set(zip(ratings["user_id"], ratings["book_id"], strict=True))
        assert not any((u, b) in seen for u, row in zip(users, ids, strict=True) for b in row)
        with_seen, _ = fitted.recommend(users, k=41, exclude_seen=False)
        assert any((u, b) in seen for u, row in zip(users, with_seen, strict=True) for b in row)

    def test_deterministic(self, fitted: Recommender) -> None:
        again = self.make().fit(planted_ratings(), planted_books())
        users = np.concatenate([GROUP_A_USERS, GROUP_B_USERS])
        a_ids, a_scores = fitted.recommend(users, k=5)
        b_ids, b_scores = again.recommend(users, k=5)
        np.testing.assert_array_equal(a_ids, b_ids)
        np.testing.assert_allclose(a_scores, b_scores, rtol=1e-5, atol=1e-6)

    def test_unknown_user_gets_popularity(self, fitted: Recommender) -> None:
        ids, scores = fitted.recommend(np.array([123456, GROUP_A_USERS[0]]), k=5)
        ratings = planted_ratings()
        top = ratings["book_id"].value_counts(sort=True)
        counts = top.reindex(ids[0]).to_numpy()
        assert np.all(np.diff(counts) <= 0) and counts[0] == top.max()
        assert np.all(np.isfinite(scores[0]))

    def test_unknown_book_pads(self, fitted: Recommender) -> None:
        ids, scores = fitted.similar_items(np.array([GROUP_A_BOOKS[0], 424242]), k=4)
        assert ids.shape == (2, 4)
        assert np.all(ids[1] == -1) and np.all(np.isneginf(scores[1]))
        assert GROUP_A_BOOKS[0] not in ids[0] and np.all(ids[0] >= 0)

    def test_similar_items_stay_in_group(self, fitted: Recommender) -> None:
        if not self.personalised:
            pytest.skip("not a personalised model")
        ids, _ = fitted.similar_items(GROUP_B_BOOKS[:5], k=3)
        assert np.isin(ids, GROUP_B_BOOKS).mean() >= 0.9, ids

    def test_k_larger_than_catalogue_pads(self, fitted: Recommender) -> None:
        ids, scores = fitted.recommend(GROUP_A_USERS[:2], k=60)
        catalogue = 41
        assert np.all(ids[:, catalogue:] == -1)
        assert np.all(np.isneginf(scores[:, catalogue:]))
        valid = ids >= 0
        assert valid.sum(axis=1).max() <= catalogue

    def test_save_load_round_trip(self, fitted: Recommender, tmp_path: Path) -> None:
        path = fitted.save(tmp_path / "model")
        loaded = load_recommender(path)
        assert type(loaded) is type(fitted)
        users = np.array([*GROUP_A_USERS[:5], *GROUP_B_USERS[:5], 999999])
        for a, b in zip(fitted.recommend(users, k=7), loaded.recommend(users, k=7), strict=True):
            np.testing.assert_array_equal(a, b)
        books = np.array([GROUP_A_BOOKS[3], COLD_BOOK])
        np.testing.assert_array_equal(
            fitted.similar_items(books)[0], loaded.similar_items(books)[0]
        )
        assert type(fitted).load(path).config_dict() == fitted.config_dict()

    def test_corrupted_file_raises(self, fitted: Recommender, tmp_path: Path) -> None:
        path = fitted.save(tmp_path / "model")
        arrays = path / "arrays.npz"
        blob = bytearray(arrays.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        arrays.write_bytes(bytes(blob))
        with pytest.raises(ModelLoadError):
            load_recommender(path)

    def test_foreign_file_raises(self, tmp_path: Path) -> None:
        (tmp_path / "manifest.json").write_text('{"hello": "world"}')
        with pytest.raises(ModelLoadError):
            load_recommender(tmp_path)
        with pytest.raises(ModelLoadError):
            make_recommender(self.model_name, **self.config).load(tmp_path / "missing")
