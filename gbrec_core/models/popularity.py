"""Popularity: rank books by how many users rated them, overall or recently.

With ``half_life`` set the part is time-aware: each rating counts ``0.5 ** (age /
half_life)``, its age measured in shares of the training time span back from an
anchor: the end of the training data (``anchor="end"``: what is popular now) or the
reader's own latest rating (``anchor="user"``: what was popular when they were last
active). Time is cut into ``buckets`` equal slices; the decayed counts at the end of
every slice are the learned state, so scoring is a row lookup.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender, rating_times
from gbrec_core.models.config import build_config, check_half_life

Anchor = Literal["end", "user"]


@dataclasses.dataclass(frozen=True)
class PopularityConfig:
    """``half_life``: ``None`` counts every rating alike; a share of the training time
    span makes counts decay with age from ``anchor``; ``buckets``: time resolution.

    Invariants: ``half_life > 0`` when set; ``anchor`` one of :data:`Anchor`;
    ``buckets >= 1``.
    """

    half_life: float | None = None
    anchor: Anchor = "end"
    buckets: int = 64

    def __post_init__(self) -> None:
        check_half_life(self.half_life)
        if self.anchor not in get_args(Anchor):
            raise InvalidInputError(f"anchor must be one of {get_args(Anchor)}: {self.anchor!r}")
        if self.buckets < 1:
            raise InvalidInputError("buckets must be >= 1")


class PopularityRecommender(Recommender):
    """Scores every book by its (possibly time-decayed) share of raters."""

    name: ClassVar[str] = "popularity"

    def __init__(self, config: PopularityConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``PopularityConfig()``) with ``overrides`` of its fields."""
        super().__init__()
        self.config = build_config(PopularityConfig, config, overrides)
        # Decayed counts at the end of each time slice (buckets x items), and the
        # training time span [start, end] the slices cut.
        self.trend: np.ndarray | None = None
        self.span: np.ndarray | None = None

    @property
    def needs_times(self) -> bool:
        return self.config.half_life is not None and self.config.anchor == "user"

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        """Plain popularity is the base class's; a half-life adds the decayed trend."""
        assert self.items is not None
        if self.config.half_life is None:
            return
        times = rating_times(ratings)
        ends = (times.min(), times.max()) if times.size else (0.0, 0.0)
        self.span = np.array(ends, dtype=np.float64)
        columns = self.items.index_of(ratings["book_id"].to_numpy())
        counts = np.zeros((self.config.buckets, len(self.items)), dtype=np.float64)
        np.add.at(counts, (self._bucket(times), columns), 1.0)
        self.trend = decayed(counts, 0.5 ** (1.0 / (self.config.buckets * self.config.half_life)))

    def _bucket(self, times: np.ndarray) -> np.ndarray:
        """The time slice of each time (clipped into the training span)."""
        assert self.span is not None
        width = max(float(self.span[1] - self.span[0]), 1e-12)
        share = (times - self.span[0]) / width
        slices: np.ndarray = np.clip(
            (share * self.config.buckets).astype(np.int64), 0, self.config.buckets - 1
        )
        return slices

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        if not self.needs_times:  # one list for every reader: no history to slice
            return self._lists(user_idx.shape[0], None)
        assert self.seen is not None
        return self._score_history(self.seen[user_idx], self.times_of(user_idx))

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        """The same list for every reader, unless anchored at each reader's latest rating
        (readers without times, e.g. seed books, are anchored at the end)."""
        if not self.needs_times or times is None:
            return self._lists(history.shape[0], None)
        return self._lists(history.shape[0], row_latest(history, times))

    def _lists(self, n: int, latest: np.ndarray | None) -> np.ndarray:
        """``n`` score rows: the trend at each reader's ``latest`` time (the end where it
        is unknown or None), or plain popularity without a half-life."""
        assert self.popularity is not None
        if self.trend is None:
            return np.tile(self.popularity, (n, 1))
        slices = np.full(n, self.config.buckets - 1, dtype=np.int64)
        if latest is not None:
            known = np.isfinite(latest)
            slices[known] = self._bucket(latest[known])
        scores: np.ndarray = self.trend[slices]
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        if self.trend is None or self.span is None:
            return {}
        return {"trend": self.trend, "span": self.span}

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        if self.config.half_life is not None and "trend" not in state:
            raise InvalidInputError("a time-decayed popularity needs its saved trend")
        self.trend, self.span = state.get("trend"), state.get("span")


def decayed(counts: np.ndarray, factor: float) -> np.ndarray:
    """Running ``d[b] = counts[b] + factor * d[b-1]``, each row scaled to max 1 (float32)."""
    out = np.empty_like(counts)
    running = np.zeros(counts.shape[1])
    for b in range(counts.shape[0]):
        running = counts[b] + factor * running
        out[b] = running
    scaled: np.ndarray = (out / np.maximum(out.max(axis=1, keepdims=True), 1e-12)).astype(
        np.float32
    )
    return scaled


def row_latest(history: sp.csr_matrix, times: np.ndarray) -> np.ndarray:
    """Each row's latest entry time (-inf for an empty row)."""
    latest = np.full(history.shape[0], -np.inf)
    owner = np.repeat(np.arange(history.shape[0]), np.diff(history.indptr))
    np.maximum.at(latest, owner, times)
    return latest
