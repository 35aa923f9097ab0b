"""EASE: a closed-form item-item linear autoencoder (Steck, WWW 2019).

``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` and a zero diagonal;
a user's scores are their binary history times ``B``. With ``half_life`` set, the
history row is weighted by recency instead: the entry rated ``r`` ratings before the
reader's latest weighs ``0.5 ** (r / (half_life * n))`` (``n``: the reader's history
length), so recent reads steer the list more (``B`` itself is unchanged). Memory is two dense
``n_items x n_items`` float32 matrices at peak (0.8 GB at 10k books), so the
catalogue is capped at ``max_items`` most popular books; the rest score by popularity
below every modelled book.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError, ModelError
from gbrec_core.models.base import IdMap, Recommender, popularity_of, recency_weights
from gbrec_core.models.config import build_config, check_half_life

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class EASEConfig:
    """``l2`` is EASE's lambda; ``max_items`` bounds the dense item-item matrix;
    ``half_life`` (share of a reader's history length, ``None``: no weighting) makes
    scoring recency-weighted.

    Invariants: ``l2 > 0``; ``max_items, gram_block >= 1``; ``half_life > 0`` when set.
    """

    l2: float = 500.0
    max_items: int = 20_000
    gram_block: int = 2048
    half_life: float | None = None

    def __post_init__(self) -> None:
        if self.l2 <= 0:
            raise InvalidInputError(f"l2 must be > 0, got {self.l2}")
        if self.max_items < 1 or self.gram_block < 1:
            raise InvalidInputError("max_items and gram_block must be >= 1")
        check_half_life(self.half_life)


class EASERecommender(Recommender):
    """Scores = (binary or recency-weighted) history @ B over the modelled items."""

    name: ClassVar[str] = "ease"

    def __init__(self, config: EASEConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``EASEConfig()``) with ``overrides`` of its fields."""
        super().__init__()
        self.config = build_config(EASEConfig, config, overrides)
        self.weights: np.ndarray | None = None
        self.modelled: np.ndarray | None = None
        # A Gram matrix handed over by `ease_grid` (consumed by the next fit).
        self._given_gram: np.ndarray | None = None

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        assert self.seen is not None and self.popularity is not None
        self.modelled = modelled_items(self.popularity, self.config.max_items)
        given, self._given_gram = self._given_gram, None
        if given is None:
            given = item_gram(self.seen, self.modelled, self.config.gram_block)
        self.weights = solve_ease(given, self.config.l2)

    @property
    def needs_times(self) -> bool:
        return self.config.half_life is not None

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        assert self.seen is not None
        return self._score_history(self.seen[user_idx], self.times_of(user_idx))

    def history_weights(self, history: sp.csr_matrix, times: np.ndarray | None) -> sp.csr_matrix:
        """The rows EASE multiplies with ``B``: binary, or recency-weighted when
        ``half_life`` is set and the entries' ``times`` are known."""
        rows = _binary(history)
        rows.data = recency_weights(rows, times, self.config.half_life)
        return rows

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        assert self.popularity is not None
        assert self.weights is not None and self.modelled is not None
        rows = self.history_weights(history, times)[:, self.modelled]
        # Unmodelled books rank below modelled ones, ordered by popularity.
        scores = np.tile(self.popularity - 2.0, (history.shape[0], 1)).astype(np.float32)
        scores[:, self.modelled] = np.asarray(rows @ self.weights, dtype=np.float32)
        return scores

    def _contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None
    ) -> np.ndarray:
        """w_h * B[h, item] for each history book h (w_h its weight, 1 unweighted): the
        score is exactly their sum."""
        assert self.weights is not None and self.modelled is not None
        out = np.zeros(history.nnz, dtype=np.float32)
        column = _modelled_position(self.modelled, np.array([item]))
        rows = _modelled_position(self.modelled, history.indices)
        if column[0] >= 0:
            inside = rows >= 0
            out[inside] = self.weights[rows[inside], column[0]]
        weighted: np.ndarray = out * self.history_weights(history, times).data
        return weighted

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        assert self.weights is not None and self.modelled is not None and self.seen is not None
        out = np.zeros((item_idx.shape[0], self.seen.shape[1]), dtype=np.float32)
        pos = np.searchsorted(self.modelled, item_idx)
        pos = np.clip(pos, 0, self.modelled.shape[0] - 1)
        inside = self.modelled[pos] == item_idx
        out[np.ix_(np.flatnonzero(inside), self.modelled)] = self.weights[pos[inside]]
        return out

    def _state(self) -> dict[str, np.ndarray]:
        assert self.weights is not None and self.modelled is not None
        return {"weights": self.weights, "modelled": self.modelled}

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self.weights = state["weights"]
        self.modelled = state["modelled"]


def _modelled_position(modelled: np.ndarray, item_idx: np.ndarray) -> np.ndarray:
    """Row of each item in the weight matrix, -1 for books EASE does not model."""
    pos = np.clip(np.searchsorted(modelled, item_idx), 0, modelled.shape[0] - 1)
    found: np.ndarray = np.where(modelled[pos] == item_idx, pos, -1)
    return found


def modelled_items(popularity: np.ndarray, max_items: int) -> np.ndarray:
    """Dense indices of the (at most ``max_items``) most popular books, sorted."""
    order = np.argsort(-popularity, kind="stable")
    modelled = np.sort(order[: min(max_items, popularity.shape[0])]).astype(np.int64)
    if modelled.shape[0] < popularity.shape[0]:
        log.warning("EASE models the %d most popular of %d books", modelled.shape[0], len(order))
    return modelled


def item_gram(seen: sp.csr_matrix, modelled: np.ndarray, block: int) -> np.ndarray:
    """Dense binary co-occurrence ``X^T X`` over the modelled books (float32)."""
    return gram(_binary(seen)[:, modelled].tocsc(), block)


def mean_item_degree(seen: sp.csr_matrix) -> float:
    """Ratings per rated book: the scale EASE's lambda grows with."""
    rated = int(np.count_nonzero(np.bincount(seen.indices, minlength=seen.shape[1])))
    return float(seen.nnz / max(rated, 1))


def ease_grid(
    users: IdMap,
    items: IdMap,
    seen: sp.csr_matrix,
    ratings: pd.DataFrame,
    l2s: Sequence[float],
    config: EASEConfig,
) -> Iterator[EASERecommender]:
    """EASE fitted for each lambda in turn (``config`` with ``l2`` replaced), sharing one
    Gram matrix (built once).

    Yields lazily so a caller keeps only the models it needs: each holds an
    ``n x n`` matrix.
    """
    shared = item_gram(
        seen, modelled_items(popularity_of(seen), config.max_items), config.gram_block
    )
    for n, l2 in enumerate(l2s):
        model = EASERecommender(dataclasses.replace(config, l2=float(l2)))
        # The solve overwrites its input: the last lambda may consume the shared copy.
        model._given_gram = shared if n == len(l2s) - 1 else shared.copy()
        model.fit_prepared(users, items, seen, ratings, None)
        yield model


def _binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = matrix.copy().astype(np.float32)
    out.data = np.ones_like(out.data)
    return out


def gram(binary: sp.csc_matrix, block: int) -> np.ndarray:
    """Dense ``X^T X`` (float32) built in column blocks to bound the sparse temporaries."""
    n = binary.shape[1]
    result = np.empty((n, n), dtype=np.float32)
    transposed = binary.T.tocsr()
    for start in range(0, n, block):
        stop = min(start + block, n)
        result[:, start:stop] = (transposed @ binary[:, start:stop]).toarray()
    return result


def solve_ease(gram_matrix: np.ndarray, l2: float, block: int = 1024) -> np.ndarray:
    """EASE weights from the Gram matrix, inverted in place via Cholesky (float32).

    Works on the Fortran-ordered view of the (symmetric) C-ordered input so that LAPACK
    overwrites it instead of copying: peak memory stays near one ``n x n`` matrix.
    """
    from scipy.linalg import lapack

    n = gram_matrix.shape[0]
    gram_matrix[np.diag_indices(n)] += np.float32(l2)
    factor, info = lapack.spotrf(gram_matrix.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise ModelError(f"EASE Cholesky failed (info={info}); increase l2")
    inverse, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise ModelError(f"EASE inversion failed (info={info}); increase l2")
    precision = np.asarray(inverse).T  # C-ordered view; its *upper* triangle is valid
    _mirror_upper(precision, block)
    diag = np.diag(precision).copy()
    precision /= -diag[None, :]
    precision[np.diag_indices(n)] = 0.0
    return precision if precision.flags.c_contiguous else np.ascontiguousarray(precision)


def _mirror_upper(matrix: np.ndarray, block: int) -> None:
    """Copy the upper triangle onto the lower one, block by block (no n^2 index arrays)."""
    n = matrix.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        diagonal = matrix[start:stop, start:stop]
        matrix[start:stop, start:stop] = np.triu(diagonal) + np.triu(diagonal, 1).T
        matrix[stop:, start:stop] = matrix[start:stop, stop:].T
