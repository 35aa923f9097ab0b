"""Content-based recommender: TF-IDF over tags and authors.

Books come from ``fit(ratings, books)``; ``books`` may carry a ``tags`` column
(``{tag_name: count}`` or a list of names; build it with
:func:`gbrec_core.models.features.books_with_tags`) and ``authors``. Books that
nobody rated are still in the catalogue, so this model serves cold-start books.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender
from gbrec_core.models.config import build_config
from gbrec_core.models.features import tfidf_matrix


@dataclasses.dataclass(frozen=True)
class ContentConfig:
    """``like_threshold``: ratings that define a user's profile (all ratings if none);
    ``author_weight``: weight of the author terms against the tags.

    Invariants: ``like_threshold`` is an integer rating; ``author_weight >= 0``.
    """

    like_threshold: int = 4
    author_weight: float = 2.0

    def __post_init__(self) -> None:
        if isinstance(self.like_threshold, bool) or not isinstance(self.like_threshold, int):
            raise InvalidInputError(f"like_threshold must be an int, got {self.like_threshold!r}")
        if self.author_weight < 0:
            raise InvalidInputError("author_weight must be >= 0")


class ContentRecommender(Recommender):
    """Cosine between the user's profile (mean liked-book vector) and each book."""

    name: ClassVar[str] = "content"

    def __init__(self, config: ContentConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``ContentConfig()``) with ``overrides`` of its fields."""
        super().__init__()
        self.config = build_config(ContentConfig, config, overrides)
        self.features: sp.csr_matrix | None = None

    @property
    def has_features(self) -> bool:
        return self.features is not None and self.features.nnz > 0

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        assert self.items is not None
        self.features = tfidf_matrix(books, self.items.ids, self.config.author_weight)

    def _profile_weights(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """Row-stochastic weights over each reader's liked books (all rated if none)."""
        weights = history.astype(np.float32)
        liked = (weights.data >= self.config.like_threshold).astype(np.float32)
        row_of = np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr))
        liked_per_row = np.bincount(row_of, weights=liked, minlength=weights.shape[0])
        weights.data = np.where(liked_per_row[row_of] > 0, liked, 1.0).astype(np.float32)
        totals = np.bincount(row_of, weights=weights.data, minlength=weights.shape[0])
        weights.data /= np.maximum(totals[row_of], 1.0).astype(np.float32)
        return weights

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        assert self.seen is not None
        return self._score_history(self.seen[user_idx], None)

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        assert self.features is not None and self.popularity is not None
        if not self.has_features:
            # Without book features the only honest ranking is by popularity.
            return np.tile(self.popularity, (history.shape[0], 1))
        profiles = self._profile_weights(history) @ self.features
        return np.asarray((profiles @ self.features.T).toarray(), dtype=np.float32)

    def _contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None
    ) -> np.ndarray:
        """Each history book's weight times its tag/author overlap with ``item``."""
        assert self.features is not None
        if not self.has_features:
            return np.zeros(history.nnz, dtype=np.float32)
        weights = self._profile_weights(history).data
        overlap = (self.features[history.indices] @ self.features[item].T).toarray().ravel()
        return (weights * overlap).astype(np.float32)  # type: ignore[no-any-return]

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        assert self.features is not None and self.seen is not None
        if not self.has_features:
            return np.zeros((item_idx.shape[0], self.seen.shape[1]), dtype=np.float32)
        return np.asarray((self.features[item_idx] @ self.features.T).toarray(), dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        assert self.features is not None
        return {
            "data": self.features.data,
            "indices": self.features.indices,
            "indptr": self.features.indptr,
            "shape": np.asarray(self.features.shape, dtype=np.int64),
        }

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        shape = (int(state["shape"][0]), int(state["shape"][1]))
        self.features = sp.csr_matrix(
            (state["data"], state["indices"], state["indptr"]), shape=shape
        )
