"""Implicit-feedback matrix factorisation (ALS) on ``implicit``'s CPU solver.

Ratings become confidences ``c = 1 + alpha * f(rating)`` (Hu, Koren & Volinsky 2008);
``implicit`` reads the stored value as the full confidence, so we pass ``c`` itself
and keep the library's own ``alpha`` at 1. With ``half_life`` set, user factors are
solved (after the usual fit, item factors fixed) from recency-weighted confidences:
the entry rated ``r`` ratings before the reader's latest counts ``0.5 ** (r /
(half_life * n))`` times its confidence (``n``: the reader's history length).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import ItemVectors, Recommender, recency_weights
from gbrec_core.models.config import build_config, check_half_life

log = logging.getLogger(__name__)

Confidence = Literal["linear", "log", "binary", "liked", "raw"]


@dataclasses.dataclass(frozen=True)
class ALSConfig:
    """ALS knobs; defaults tuned on two synthetic generators (see docs/models.md).

    Invariants: ``factors, iterations >= 1``; ``regularization, alpha >= 0``;
    ``confidence`` one of :data:`Confidence`; ``num_threads >= 0`` (0: all cores);
    ``half_life > 0`` when set (``None``: no recency weighting).
    """

    factors: int = 64
    iterations: int = 15
    regularization: float = 0.05
    alpha: float = 2.0
    confidence: Confidence = "liked"
    seed: int = 42
    num_threads: int = 0
    half_life: float | None = None

    def __post_init__(self) -> None:
        if self.factors < 1 or self.iterations < 1:
            raise InvalidInputError("factors and iterations must be >= 1")
        if self.regularization < 0 or self.alpha < 0:
            raise InvalidInputError("regularization and alpha must be >= 0")
        if self.confidence not in get_args(Confidence):
            raise InvalidInputError(
                f"confidence must be one of {get_args(Confidence)}, got {self.confidence!r}"
            )
        if self.num_threads < 0:
            raise InvalidInputError("num_threads must be >= 0")
        check_half_life(self.half_life)


def confidence(ratings: np.ndarray, alpha: float, kind: Confidence) -> np.ndarray:
    """Confidence ``1 + alpha * f(rating)`` for ratings on a 1..5 scale.

    ``raw`` is implicit's own convention instead, ``alpha * rating``: with ``alpha=1``
    and ``regularization=0.01`` the model is implicit's library default.
    """
    r = ratings.astype(np.float32, copy=False)
    if kind == "raw":
        return (alpha * r).astype(np.float32)
    if kind == "linear":
        f = r
    elif kind == "log":
        f = np.log1p(r)
    elif kind == "binary":
        f = np.ones_like(r)
    elif kind == "liked":
        # Every read counts; books the user liked (>= 4) count more.
        f = 1.0 + (r >= 4).astype(np.float32)
    else:
        raise InvalidInputError(f"unknown confidence '{kind}'")
    return (1.0 + alpha * f).astype(np.float32)


class ALSRecommender(Recommender):
    """Weighted matrix factorisation; scores are ``user_factors @ item_factors.T``."""

    name: ClassVar[str] = "als"

    def __init__(self, config: ALSConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``ALSConfig()``) with ``overrides`` of its fields."""
        super().__init__()
        self.config = build_config(ALSConfig, config, overrides)
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None

    @property
    def needs_times(self) -> bool:
        return self.config.half_life is not None

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        assert self.seen is not None
        unweighted = self._confidence_matrix(with_times=False)
        self.user_factors, self.item_factors = fit_als(unweighted, self.config)
        if self.needs_times:
            self.refresh_users(np.arange(self.seen.shape[0]))

    def _confidence_matrix(
        self, user_idx: np.ndarray | None = None, with_times: bool = True
    ) -> sp.csr_matrix:
        """Confidences on ``seen``'s structure (shared index arrays: no copy of them),
        recency-weighted when the model is (and ``with_times``)."""
        assert self.seen is not None
        seen = self.seen if user_idx is None else self.seen[user_idx]
        times = None
        if with_times:
            times = self.times if user_idx is None else self.times_of(user_idx)
        return sp.csr_matrix(
            (self._confidences(seen, times), seen.indices, seen.indptr),
            shape=seen.shape,
            copy=False,
        )

    def _confidences(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        values = confidence(history.data, self.config.alpha, self.config.confidence)
        if self.config.half_life is None or times is None:
            return values
        weighted: np.ndarray = values * recency_weights(history, times, self.config.half_life)
        return weighted

    def refresh_users(self, user_idx: np.ndarray) -> None:
        """Re-solve these users' factors from ``seen`` (and their entries' times, when
        recency-weighted) with the item factors held fixed."""
        assert self.user_factors is not None and self.item_factors is not None
        self.user_factors[user_idx] = solve_users(
            self._confidence_matrix(user_idx), self.item_factors, self.config
        )

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        """The least-squares user solve for each row (item factors fixed), scored."""
        assert self.item_factors is not None
        data = self._confidences(history, times)
        rows = sp.csr_matrix((data, history.indices, history.indptr), shape=history.shape)
        factors = solve_users(rows, self.item_factors, self.config)
        return factors @ self.item_factors.T  # type: ignore[no-any-return]

    def _contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None
    ) -> np.ndarray:
        """The exact split of the solved score over the history: with
        ``A = YtY + reg I + sum (c_h - 1) y_h y_h^T`` the user vector is
        ``A^-1 sum c_h y_h``, so book h adds ``c_h * y_item^T A^-1 y_h``."""
        assert self.item_factors is not None
        factors = self.item_factors.astype(np.float64)
        conf = np.asarray(self._confidences(history, times), dtype=np.float64)
        mine = factors[history.indices]
        system = factors.T @ factors + self.config.regularization * np.eye(factors.shape[1])
        system += (mine.T * (conf - 1.0)) @ mine
        direction = np.linalg.solve(system, factors[item])
        return (conf * (mine @ direction)).astype(np.float32)  # type: ignore[no-any-return]

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        assert self.user_factors is not None and self.item_factors is not None
        return self.user_factors[user_idx] @ self.item_factors.T  # type: ignore[no-any-return]

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        assert self.item_factors is not None
        norms = np.linalg.norm(self.item_factors, axis=1) + 1e-9
        unit = self.item_factors / norms[:, None]
        return unit[item_idx] @ unit.T  # type: ignore[no-any-return]

    def item_vectors(self) -> ItemVectors | None:
        _, items = self._require_fitted()
        assert self.item_factors is not None
        return ItemVectors(book_ids=items.ids.copy(), vectors=self.item_factors)

    def user_vectors(self, user_ids: np.ndarray) -> np.ndarray | None:
        users, _ = self._require_fitted()
        assert self.user_factors is not None
        idx = users.index_of(np.atleast_1d(np.asarray(user_ids)))
        out = np.zeros((idx.shape[0], self.config.factors), dtype=np.float32)
        out[idx >= 0] = self.user_factors[idx[idx >= 0]]
        return out

    def _state(self) -> dict[str, np.ndarray]:
        assert self.user_factors is not None and self.item_factors is not None
        return {"user_factors": self.user_factors, "item_factors": self.item_factors}

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors = state["user_factors"]
        self.item_factors = state["item_factors"]


def fit_als(matrix: sp.csr_matrix, config: ALSConfig) -> tuple[np.ndarray, np.ndarray]:
    """Run implicit's CPU ALS on a users x items confidence matrix; returns float32 factors."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    # implicit parallelises over users itself; multi-threaded BLAS inside each
    # thread oversubscribes the cores and makes fit up to 10x slower.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=config.factors,
            regularization=config.regularization,
            alpha=1.0,
            iterations=config.iterations,
            random_state=config.seed,
            num_threads=config.num_threads,
        )
        # float32 CSR in, so implicit neither converts nor copies it.
        model.fit(matrix.astype(np.float32, copy=False), show_progress=False)
    user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    return user_factors, item_factors


def solve_users(matrix: sp.csr_matrix, item_factors: np.ndarray, config: ALSConfig) -> np.ndarray:
    """Exact least-squares user factors for confidence rows, item factors fixed."""
    from implicit.cpu import _als
    from threadpoolctl import threadpool_limits

    out = np.zeros((matrix.shape[0], item_factors.shape[1]), dtype=np.float32)
    items = np.ascontiguousarray(item_factors, dtype=np.float32)
    with threadpool_limits(1, "blas"):
        _als._least_squares(
            items.T @ items,
            matrix.indptr,
            matrix.indices,
            matrix.data.astype(np.float32, copy=False),
            out,
            items,
            config.regularization,
            num_threads=config.num_threads,
        )
    return out
