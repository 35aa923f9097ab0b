"""The Recommender interface and the machinery every model shares.

A model sees ratings with the data set's own ids; internally it works on dense
indices (``IdMap``). ``recommend`` and ``similar_items`` take and return data-set
ids; unknown users get the popularity fallback, never an exception.

Time: ``ratings`` are in time order (GoodBooks' ``ratings.csv`` is sorted by time)
or carry a ``time`` column (any non-decreasing clock). A time-aware model
(``needs_times``) keeps, for each stored entry of its history ``seen``, the time of
that rating (:func:`entry_times`): scoring a known user uses it, and so does serving,
since it scores through the same methods. Histories without times (seed books of a
new reader) count every entry as rated just now.
"""

from __future__ import annotations

import dataclasses
import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError, ModelLoadError, NotFittedError
from gbrec_core.models import folding, persistence
from gbrec_core.models.config import config_to_json

BATCH_USERS = 2048
# Ids up to this bound (or 8x the id count) use a dense lookup table: O(n) instead of
# sort/searchsorted, which dominated the cost of building the rating matrix.
DENSE_ID_LIMIT = 1 << 22


@dataclasses.dataclass(frozen=True)
class IdMap:
    """Sorted external ids and the lookup from external id to dense index."""

    ids: np.ndarray

    @classmethod
    def from_values(cls, values: np.ndarray) -> IdMap:
        values = np.asarray(values)
        if values.size and values.dtype.kind in "iu":
            low, high = int(values.min()), int(values.max())
            if low >= 0 and high < max(DENSE_ID_LIMIT, 8 * values.size):
                return cls(np.flatnonzero(np.bincount(values, minlength=high + 1)))
        return cls(np.unique(values.astype(np.int64, copy=False)))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @functools.cached_property
    def _table(self) -> np.ndarray | None:
        """external id -> dense index (-1 unknown), when the ids are small enough."""
        if len(self) == 0 or self.ids[0] < 0:
            return None
        high = int(self.ids[-1])
        if high >= max(DENSE_ID_LIMIT, 8 * len(self)):
            return None
        table = np.full(high + 1, -1, dtype=np.int64)
        table[self.ids] = np.arange(len(self), dtype=np.int64)
        return table

    def position(self, external: int) -> int:
        """Dense index of one id, -1 when unknown (a scalar lookup, no array built)."""
        table = self._table
        if table is not None:
            return int(table[external]) if 0 <= external < table.shape[0] else -1
        return int(self.index_of(np.array([external], dtype=np.int64))[0])

    def index_of(self, external: np.ndarray) -> np.ndarray:
        """Dense index of each id, -1 where unknown."""
        external = np.asarray(external)
        if len(self) == 0:
            return np.full(external.shape, -1, dtype=np.int64)
        table = self._table
        if table is not None and external.dtype.kind in "iu":
            inside = (external >= 0) & (external < table.shape[0])
            if inside.all():
                found: np.ndarray = table[external]
                return found
            return np.where(inside, table[np.where(inside, external, 0)], -1)
        external = external.astype(np.int64, copy=False)
        pos = np.clip(np.searchsorted(self.ids, external), 0, len(self) - 1)
        return np.where(self.ids[pos] == external, pos, -1).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class ItemVectors:
    """Item embeddings whose inner product with a user vector is the model's score."""

    book_ids: np.ndarray
    vectors: np.ndarray


class Recommender(ABC):
    """fit / recommend / similar_items / save / load over data-set ids."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.users: IdMap | None = None
        self.items: IdMap | None = None
        self.seen: sp.csr_matrix | None = None
        self.popularity: np.ndarray | None = None
        # Time of each stored entry of ``seen`` (aligned with ``seen.data``), kept only
        # by models that need it.
        self.times: np.ndarray | None = None

    # ---- public API -------------------------------------------------------------------
    def fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None = None) -> Self:
        """Learn from ``ratings`` (user_id, book_id, rating); ``books`` adds the catalogue."""
        _check_columns(ratings)
        catalogue = ratings["book_id"].to_numpy()
        if books is not None and "book_id" in books:
            catalogue = np.concatenate([catalogue, books["book_id"].to_numpy()])
        users = IdMap.from_values(ratings["user_id"].to_numpy())
        items = IdMap.from_values(catalogue)
        return self.fit_prepared(users, items, interactions(ratings, users, items), ratings, books)

    def fit_prepared(
        self,
        users: IdMap,
        items: IdMap,
        seen: sp.csr_matrix,
        ratings: pd.DataFrame,
        books: pd.DataFrame | None,
    ) -> Self:
        """Fit on a prepared rating matrix (lets an ensemble share one across its parts).

        ``seen`` is ``interactions(ratings, users, items)`` or a matrix in the same
        index space; ``items`` may hold books nobody rated (the catalogue).
        """
        self.users, self.items, self.seen = users, items, seen
        self.popularity = popularity_of(seen)
        self.times = entry_times(ratings, users, items, seen) if self.needs_times else None
        self._fit(ratings, books)
        return self

    @property
    def needs_times(self) -> bool:
        """Does this model score known users by when they rated (see the module doc)?"""
        return False

    def recommend(
        self, user_ids: np.ndarray, k: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` book ids and scores per user, shape (n_users, k); -1 / -inf pad."""
        users, items = self._require_fitted()
        _check_k(k)
        user_idx = users.index_of(np.atleast_1d(np.asarray(user_ids)))
        out_ids = np.full((user_idx.shape[0], k), -1, dtype=np.int64)
        out_scores = np.full((user_idx.shape[0], k), -np.inf, dtype=np.float32)
        for rows in _batches(user_idx.shape[0]):
            scores = self._scores_for(user_idx[rows])
            if exclude_seen:
                self._mask_seen(scores, user_idx[rows])
            top, top_scores = top_k(scores, k)
            out_ids[rows] = np.where(top >= 0, items.ids[np.maximum(top, 0)], -1)
            out_scores[rows] = top_scores
        return out_ids, out_scores

    def recommend_from_items(
        self,
        book_ids: np.ndarray,
        k: int = 10,
        exclude: np.ndarray | None = None,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` book ids and scores (1-d, -1 / -inf pad) for a reader the model was
        not trained on, from books they liked: the seeds are folded in as that reader's
        history (see :mod:`gbrec_core.models.folding`) and never recommended back.
        Seeds the model lacks are ignored; ``exclude`` are further book ids to leave
        out; ``candidates`` (a boolean per item row) restricts the list to those books."""
        _, items = self._require_fitted()
        _check_k(k)
        rows = folding.seed_rows(items.index_of(np.atleast_1d(np.asarray(book_ids))))
        scores = self.score_history(folding.one_row(rows, len(items)))
        scores[0, rows] = -np.inf
        if exclude is not None:
            excluded = items.index_of(np.atleast_1d(np.asarray(exclude)))
            scores[0, excluded[excluded >= 0]] = -np.inf
        if candidates is not None:
            scores[:, ~candidates] = -np.inf
        top, top_scores = top_k(scores, k)
        return np.where(top[0] >= 0, items.ids[np.maximum(top[0], 0)], -1), top_scores[0]

    def score_history(self, history: sp.csr_matrix, times: np.ndarray | None = None) -> np.ndarray:
        """Scores (n_rows, n_items) of readers given by their rating rows in this
        model's item space, as if they had been trained users (seen books not masked).
        ``times``: when each stored entry was rated (aligned with ``history.data``);
        ``None``: all just now. Only time-aware models read it."""
        _, items = self._require_fitted()
        if history.shape[1] != len(items):
            raise InvalidInputError("a history row must span the model's items")
        history = history.tocsr()
        return self._score_history(history, _check_times(history, times))

    def explain(
        self,
        book_ids: np.ndarray,
        *,
        user_id: int | None = None,
        seeds: np.ndarray | None = None,
        top: int = 3,
    ) -> list[list[int]]:
        """For each book, the reader's history books (of ``user_id``, else ``seeds``)
        that raised its score most, largest contribution first (at most ``top``; books
        the model cannot attribute get an empty list)."""
        history, times = self._history_row(user_id, seeds)
        _, items = self._require_fitted()
        rows = items.index_of(np.atleast_1d(np.asarray(book_ids)))
        out: list[list[int]] = []
        for row in rows.tolist():
            if row < 0 or history.nnz == 0:
                out.append([])
                continue
            terms = self.contributions(history, int(row), times)
            chosen = folding.top_contributors(terms, history.indices, top)
            out.append([int(i) for i in items.ids[chosen]])
        return out

    def contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None = None
    ) -> np.ndarray:
        """What each entry of the one-row ``history`` adds to item row ``item``'s score
        (aligned with ``history.indices``; zeros when the family cannot attribute);
        ``times`` as for :meth:`score_history`."""
        return self._contributions(history, item, _check_times(history, times))

    def similar_items(self, book_ids: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` most similar books to each given book (itself excluded)."""
        _, items = self._require_fitted()
        _check_k(k)
        item_idx = items.index_of(np.atleast_1d(np.asarray(book_ids)))
        known = item_idx >= 0
        scores = np.full((item_idx.shape[0], len(items)), -np.inf, dtype=np.float32)
        if known.any():
            scores[known] = self._item_similarity(item_idx[known])
            scores[np.flatnonzero(known), item_idx[known]] = -np.inf
        top, top_scores = top_k(scores, k)
        return np.where(top >= 0, items.ids[np.maximum(top, 0)], -1), top_scores

    def score(self, user_ids: np.ndarray) -> np.ndarray:
        """Full-catalogue scores, shape (n_users, n_items), for data-set user ids.

        Column ``j`` scores book ``items.ids[j]``; higher is better, and the scale is the
        model's own (not comparable across models). Seen books are not masked; unknown
        users get the popularity scores. ``recommend`` ranks exactly these scores.
        """
        users, _ = self._require_fitted()
        return self._scores_for(users.index_of(np.atleast_1d(np.asarray(user_ids))))

    def score_rows(self, user_rows: np.ndarray) -> np.ndarray:
        """Like :meth:`score`, for known users given by their row in ``users`` (dense
        indices, every one in ``[0, len(users))``, else ``InvalidInputError``)."""
        users, _ = self._require_fitted()
        rows = _check_rows(user_rows, len(users), "user")
        return self._score_known(rows)

    def similarity_rows(self, item_rows: np.ndarray) -> np.ndarray:
        """Dense item-item similarity, shape (len(item_rows), n_items), for books given by
        their row in ``items`` (all in range); what :meth:`similar_items` ranks (with
        the book itself included)."""
        _, items = self._require_fitted()
        return self._item_similarity(_check_rows(item_rows, len(items), "item"))

    def item_vectors(self) -> ItemVectors | None:
        """Embeddings for a vector index, when the model has them."""
        return None

    def user_vectors(self, user_ids: np.ndarray) -> np.ndarray | None:
        """Query vectors matching :meth:`item_vectors` (zeros for unknown users)."""
        return None

    @property
    def is_fitted(self) -> bool:
        return self.seen is not None

    def config_dict(self) -> dict[str, Any]:
        """The typed config as JSON-ready values (what ``save`` writes and ``load`` reads)."""
        config = getattr(self, "config", None)
        if dataclasses.is_dataclass(config) and not isinstance(config, type):
            return config_to_json(config)
        return {}

    def learned_state(self) -> dict[str, np.ndarray]:
        """What fitting learned beyond ids, history and popularity, as named arrays;
        :meth:`restore` rebuilds the fitted model from it."""
        self._require_fitted()
        return self._state()

    def restore(
        self,
        users: IdMap,
        items: IdMap,
        seen: sp.csr_matrix,
        popularity: np.ndarray,
        state: dict[str, np.ndarray],
        times: np.ndarray | None = None,
    ) -> Self:
        """Make this model the fitted one whose :meth:`learned_state` was ``state``, over
        the given id maps, history (with its entries' ``times`` for a time-aware model)
        and popularity (this model's config must be the one it was fitted with)."""
        self.users, self.items = users, items
        self._set_history(seen, popularity, times)
        self._restore(state)
        self._require_times()
        return self

    def use_history(
        self, seen: sp.csr_matrix, popularity: np.ndarray, times: np.ndarray | None = None
    ) -> None:
        """Score and mask seen books with this history from now on (learned state kept).

        ``seen`` is users x items in this model's index space; ``popularity`` is
        ``popularity_of`` some matrix of that space (the unknown-user fallback);
        ``times`` (aligned with ``seen.data``) is required by time-aware models.
        """
        self._set_history(seen, popularity, times)
        self._require_times()

    def _set_history(
        self, seen: sp.csr_matrix, popularity: np.ndarray, times: np.ndarray | None
    ) -> None:
        if self.users is None or self.items is None:
            raise NotFittedError(f"{type(self).__name__} has no id maps; fit or restore it")
        if seen.shape != (len(self.users), len(self.items)) or popularity.shape != (
            len(self.items),
        ):
            raise InvalidInputError("history and popularity must match the model's id maps")
        self.seen, self.popularity = seen, popularity
        self.times = _check_times(seen, times)

    def _require_times(self) -> None:
        if self.needs_times and self.times is None:
            raise InvalidInputError(
                f"{type(self).__name__} is time-aware: its history needs the entries' times"
            )

    # ---- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model to a directory (versioned format, checksummed)."""
        users, items = self._require_fitted()
        assert self.seen is not None and self.popularity is not None
        arrays: dict[str, np.ndarray] = {
            "users": users.ids,
            "items": items.ids,
            "seen_data": self.seen.data,
            "seen_indices": self.seen.indices,
            "seen_indptr": self.seen.indptr,
            "popularity": self.popularity,
            **{f"state_{k}": v for k, v in self._state().items()},
        }
        if self.times is not None:
            arrays["seen_times"] = self.times
        return persistence.write_model(Path(path), self.name, self.config_dict(), arrays)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`; raises ``ModelLoadError`` when invalid."""
        _, config, arrays = persistence.read_model(Path(path), expected=cls.name)
        model = cls._from_config(config)
        users, items = IdMap(arrays["users"]), IdMap(arrays["items"])
        seen = sp.csr_matrix(
            (arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"]),
            shape=(len(users), len(items)),
        )
        state = {k.removeprefix("state_"): v for k, v in arrays.items() if k.startswith("state_")}
        try:
            return model.restore(
                users, items, seen, arrays["popularity"], state, arrays.get("seen_times")
            )
        except InvalidInputError as e:
            raise ModelLoadError(f"saved {cls.name} model is inconsistent: {e}") from e

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> Self:
        """An unfitted model from a saved config; an invalid one is a ``ModelLoadError``."""
        try:
            return cls(**config)
        except (InvalidInputError, TypeError, ValueError) as e:  # e.g. a string for a number
            raise ModelLoadError(f"saved {cls.name} config is invalid: {e}") from e

    # ---- what a model implements -------------------------------------------------------------
    @abstractmethod
    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        """Learn model state; ``users``, ``items``, ``seen`` and ``popularity`` are set."""

    @abstractmethod
    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        """Dense scores (len(user_idx), n_items) for known users (all indices >= 0)."""

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        """Dense scores for history rows (what :meth:`score_history` returns)."""
        raise InvalidInputError(f"{self.name} cannot score readers it was not trained on")

    def _contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None
    ) -> np.ndarray:
        """How much each stored entry of the one-row ``history`` adds to ``item``'s
        score (aligned with ``history.indices``); default: nothing is attributable."""
        return np.zeros(history.nnz, dtype=np.float32)

    def _history_row(
        self, user_id: int | None, seeds: np.ndarray | None
    ) -> tuple[sp.csr_matrix, np.ndarray | None]:
        """The reader's one-row history and its entries' times (``None``: unknown)."""
        users, items = self._require_fitted()
        assert self.seen is not None
        if user_id is not None and users.position(int(user_id)) >= 0:
            row = users.position(int(user_id))
            return self.seen[row], self.times_of(np.array([row]))
        if seeds is not None and len(seeds):
            return folding.one_row(folding.seed_rows(items.index_of(seeds)), len(items)), None
        return sp.csr_matrix((1, len(items)), dtype=np.float32), None

    def times_of(self, user_idx: np.ndarray) -> np.ndarray | None:
        """The entry times of these known users' history rows, in the order of
        ``self.seen[user_idx]``'s stored entries (``None`` when the model keeps none)."""
        if self.times is None or self.seen is None:
            return None
        starts = self.seen.indptr[user_idx]
        lengths = self.seen.indptr[user_idx + 1] - starts
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        found: np.ndarray = self.times[np.repeat(starts, lengths) + offsets]
        return found

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        """Dense similarity (len(item_idx), n_items); default: co-occurrence cosine."""
        assert self.seen is not None
        binary = (self.seen > 0).astype(np.float32).tocsc()
        norms = np.sqrt(np.asarray(binary.multiply(binary).sum(axis=0)).ravel()) + 1e-9
        cols = binary[:, item_idx]
        co = np.asarray((cols.T @ binary).todense(), dtype=np.float32)
        similarity: np.ndarray = co / (norms[item_idx, None] * norms[None, :])
        return similarity

    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _restore(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027 - optional hook
        """Restore what :meth:`_state` returned."""

    # ---- helpers -------------------------------------------------------------------------------
    def _scores_for(self, user_idx: np.ndarray) -> np.ndarray:
        assert self.popularity is not None
        scores = np.tile(self.popularity, (user_idx.shape[0], 1)).astype(np.float32)
        known = user_idx >= 0
        if known.any():
            scores[known] = self._score_known(user_idx[known])
        return scores

    def _mask_seen(self, scores: np.ndarray, user_idx: np.ndarray) -> None:
        assert self.seen is not None
        known = np.flatnonzero(user_idx >= 0)
        if known.size == 0:
            return
        # Slice the CSR arrays directly: scipy's fancy row indexing costs more than
        # the scoring itself when serving one user at a time.
        rows, cols = csr_rows(self.seen, user_idx[known])
        scores[known[rows], cols] = -np.inf

    def _require_fitted(self) -> tuple[IdMap, IdMap]:
        if self.users is None or self.items is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        return self.users, self.items


def popularity_of(seen: sp.csr_matrix) -> np.ndarray:
    """Share of raters per book, scaled so the most rated book is 1 (float32)."""
    counts = np.bincount(seen.indices[seen.data > 0], minlength=seen.shape[1])
    counts = counts.astype(np.float32)
    scaled: np.ndarray = counts / max(float(counts.max(initial=0.0)), 1.0)
    return scaled


def rating_times(ratings: pd.DataFrame) -> np.ndarray:
    """Each rating's time: the ``time`` column when there is one, else its row number."""
    if "time" in ratings:
        return ratings["time"].to_numpy(dtype=np.float64)
    return np.arange(len(ratings), dtype=np.float64)


def entry_times(
    ratings: pd.DataFrame, users: IdMap, items: IdMap, seen: sp.csr_matrix
) -> np.ndarray:
    """The time of each stored entry of ``seen = interactions(ratings, users, items)``
    (aligned with ``seen.data``): its latest rating's :func:`rating_times`."""
    n_items = np.int64(len(items))
    keys = users.index_of(ratings["user_id"].to_numpy()) * n_items + items.index_of(
        ratings["book_id"].to_numpy()
    )
    owner = np.repeat(np.arange(seen.shape[0], dtype=np.int64), np.diff(seen.indptr))
    stored = owner * n_items + seen.indices  # ascending: canonical CSR
    # Searching sorted keys walks ``stored`` once; the rows' time order would jump around
    # it (4.76M ratings: 5.5 s unsorted, 1.3 s with the sort).
    order = np.argsort(keys, kind="stable")
    positions = np.empty_like(order)
    positions[order] = np.searchsorted(stored, keys[order])
    out = np.full(seen.nnz, -np.inf)
    np.maximum.at(out, positions, rating_times(ratings))
    return out


def recency_ranks(history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
    """Per stored entry, how many of its row's entries are more recent (0 = the latest;
    ties by column); all 0 without ``times``."""
    if times is None:
        return np.zeros(history.nnz, dtype=np.int64)
    owner = np.repeat(np.arange(history.shape[0]), np.diff(history.indptr))
    order = np.lexsort((history.indices, -times, owner))
    ranks = np.empty(history.nnz, dtype=np.int64)
    ranks[order] = np.arange(history.nnz) - np.repeat(history.indptr[:-1], np.diff(history.indptr))
    return ranks


def recency_weights(
    history: sp.csr_matrix, times: np.ndarray | None, half_life: float | None
) -> np.ndarray:
    """Per stored entry, ``0.5 ** (r / (half_life * n))``: ``r`` the entry's
    :func:`recency_ranks`, ``n`` its row's length; all 1 without a half-life or times."""
    if half_life is None or times is None:
        return np.ones(history.nnz, dtype=np.float32)
    lengths = np.repeat(np.diff(history.indptr), np.diff(history.indptr)).astype(np.float64)
    weights: np.ndarray = np.power(0.5, recency_ranks(history, times) / (half_life * lengths))
    return weights.astype(np.float32)


def interactions(ratings: pd.DataFrame, users: IdMap, items: IdMap) -> sp.csr_matrix:
    """users x items float32 CSR of ratings (canonical: sorted, duplicates summed)."""
    rows = users.index_of(ratings["user_id"].to_numpy())
    cols = items.index_of(ratings["book_id"].to_numpy())
    values = ratings["rating"].to_numpy(dtype=np.float32)
    # int32 indices: what implicit's solver takes without a conversion.
    coo = sp.coo_matrix(
        (values, (rows.astype(np.int32), cols.astype(np.int32))), shape=(len(users), len(items))
    )
    matrix = coo.tocsr()
    matrix.sum_duplicates()
    return matrix


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest entries per row, best first; -1 / -inf pad.

    Equal scores are ordered by column (lower first), also across the cut at ``k``: the
    answer is a total order, so the top-k is always the prefix of any deeper top-n (what
    precomputed lists rely on) and never depends on how the selection was partitioned.
    """
    n_rows, n_cols = scores.shape
    take = min(k, n_cols)
    idx = np.full((n_rows, k), -1, dtype=np.int64)
    vals = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if take == 0:
        return idx, vals
    if take < n_cols:
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        _settle_ties_at_cut(scores, part)
    else:
        part = np.tile(np.arange(n_cols), (n_rows, 1))
    part_vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_vals), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    best_vals = np.take_along_axis(part_vals, order, axis=1)
    finite = np.isfinite(best_vals)
    idx[:, :take] = np.where(finite, best, -1)
    vals[:, :take] = np.where(finite, best_vals, -np.inf)
    return idx, vals


def _settle_ties_at_cut(scores: np.ndarray, part: np.ndarray) -> None:
    """Where entries equal to a row's cut value do not all fit in ``part``, keep the
    lowest columns among them (argpartition keeps arbitrary ones). In place."""
    take = part.shape[1]
    cut = np.take_along_axis(scores, part, axis=1).min(axis=1, keepdims=True)
    above = scores > cut
    tied = scores == cut
    straddling = np.flatnonzero(above.sum(axis=1) + tied.sum(axis=1) > take)
    for row in straddling:
        room = take - int(above[row].sum())
        chosen = above[row] | (tied[row] & (np.cumsum(tied[row]) <= room))
        part[row] = np.flatnonzero(chosen)


def csr_rows(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, column) of every stored entry of the given rows."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(rows.shape[0]), lengths)
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return owner, matrix.indices[np.repeat(starts, lengths) + offsets]


def _batches(n: int, size: int = BATCH_USERS) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _check_columns(ratings: pd.DataFrame) -> None:
    missing = {"user_id", "book_id", "rating"} - set(ratings.columns)
    if missing:
        raise InvalidInputError(f"ratings is missing columns: {sorted(missing)}")


def _check_rows(rows: np.ndarray, n: int, what: str) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.ndim != 1 or rows.dtype.kind not in "iu":
        raise InvalidInputError(f"{what} rows must be a 1-d integer array")
    if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= n):
        raise InvalidInputError(f"{what} rows must lie in [0, {n})")
    return rows


def _check_times(history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray | None:
    if times is not None and np.shape(times) != (history.nnz,):
        raise InvalidInputError("times must hold one value per stored history entry")
    return times


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidInputError(f"k must be >= 1, got {k}")
