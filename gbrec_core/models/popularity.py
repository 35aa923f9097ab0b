"""Popularity baseline: rank books by how many users rated them."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.models.base import Recommender
from gbrec_core.models.config import build_config


@dataclasses.dataclass(frozen=True)
class PopularityConfig:
    """No knobs: kept for a uniform ``<Name>Config`` per model."""


class PopularityRecommender(Recommender):
    """Scores every book by its share of raters; same list for every user."""

    name: ClassVar[str] = "popularity"

    def __init__(self, config: PopularityConfig | None = None, **overrides: Any) -> None:
        """Takes no knobs: any override is an ``InvalidInputError`` (unknown field)."""
        super().__init__()
        self.config = build_config(PopularityConfig, config, overrides)

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        """Popularity is computed by the base class."""

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        assert self.popularity is not None
        return np.tile(self.popularity, (user_idx.shape[0], 1))

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Popularity ignores the reader: seeds change nothing but what is excluded."""
        return self._score_known(np.zeros(history.shape[0], dtype=np.int64))
