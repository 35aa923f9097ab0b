"""Beyond-accuracy metrics of top-k lists: novelty, diversity, popularity bias.

All read the training ratings and the books' tags, never the held-out positives:

- **novelty@k**: mean self-information ``-log2 p(i)`` of the listed books, where
  ``p(i) = (training users who rated i + 1) / (training users + 1)`` (the +1 keeps
  books nobody rated in training finite). Higher = less obvious books.
- **ild@k** (intra-list diversity): mean Jaccard distance ``1 - |T_a & T_b| / |T_a | T_b|``
  between the tag sets of every pair of listed books, averaged per list, then over
  lists. Only books with at least one tag take part; a list with fewer than two tagged
  books has no pairs and is left out; NaN when no list has a pair (a catalogue without
  tags, like the real 100-row ``book_tags`` sample). ``tagged`` says what share of the
  listed books had tags, i.e. how much of each list ILD describes.
- **arp@k** (average recommendation popularity): mean over lists of the mean share of
  training users who rated each listed book.
- **head_share@k**: share of the listed books that are in the popularity *head*, the
  most-rated 10% of the books rated in training. Compare with the same number for
  what users actually read next (the holdout reference row of the report).

Catalogue coverage lives with the ranking metrics (:func:`gbrec_core.models.metrics.coverage`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import scipy.sparse as sp

HEAD_FRACTION = 0.1
#: Book pairs scored per sparse product when measuring diversity (bounds memory).
_PAIR_CHUNK = 200_000
BEYOND_METRICS = ("novelty", "ild", "arp", "head_share", "tagged")


@dataclasses.dataclass(frozen=True)
class CatalogueStats:
    """Training popularity and tag sets of the known books (rows follow ``book_ids``)."""

    book_ids: np.ndarray
    raters: np.ndarray
    n_users: int
    head: np.ndarray
    tags: sp.csr_matrix

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Row of each book id; -1 for padding and books these stats do not know."""
        ids = np.asarray(ids, dtype=np.int64)
        if self.book_ids.shape[0] == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.book_ids, ids), self.book_ids.shape[0] - 1)
        return np.where((ids >= 0) & (self.book_ids[pos] == ids), pos, -1)


def catalogue_stats(train: pd.DataFrame, books: pd.DataFrame | None = None) -> CatalogueStats:
    """Popularity from ``train`` and tag sets from ``books`` (a ``tags`` column of
    ``{name: count}`` dicts or lists of names, as ``book_catalogue`` holds)."""
    pairs = train[["user_id", "book_id"]].drop_duplicates()
    counts = pairs["book_id"].value_counts()
    known = [counts.index.to_numpy(dtype=np.int64)]
    if books is not None and "book_id" in books:
        known.append(books["book_id"].to_numpy(dtype=np.int64))
    book_ids = np.unique(np.concatenate(known))
    raters = counts.reindex(book_ids, fill_value=0).to_numpy(dtype=np.int64)
    return CatalogueStats(
        book_ids=book_ids,
        raters=raters,
        n_users=int(pairs["user_id"].nunique()),
        head=_head(raters),
        tags=_tag_matrix(books, book_ids),
    )


def _head(raters: np.ndarray) -> np.ndarray:
    """The most-rated ``HEAD_FRACTION`` of the books rated in training (ties by id order)."""
    rated = int((raters > 0).sum())
    size = math.ceil(HEAD_FRACTION * rated)
    head = np.zeros(raters.shape[0], dtype=bool)
    head[np.argsort(-raters, kind="stable")[:size]] = True
    return head


def _tag_matrix(books: pd.DataFrame | None, book_ids: np.ndarray) -> sp.csr_matrix:
    """Binary book x tag matrix (rows follow ``book_ids``); no columns without tags."""
    if books is None or "tags" not in books or "book_id" not in books:
        return sp.csr_matrix((book_ids.shape[0], 0), dtype=np.float32)
    rows = np.searchsorted(book_ids, books["book_id"].to_numpy(dtype=np.int64))
    vocab: dict[str, int] = {}
    coo_rows: list[int] = []
    coo_cols: list[int] = []
    for row, tags in zip(rows.tolist(), books["tags"], strict=True):
        for name in _tag_names(tags):
            coo_rows.append(row)
            coo_cols.append(vocab.setdefault(name, len(vocab)))
    matrix = sp.csr_matrix(
        (np.ones(len(coo_rows), dtype=np.float32), (coo_rows, coo_cols)),
        shape=(book_ids.shape[0], len(vocab)),
    )
    matrix.data[:] = 1.0  # a book listed twice (duplicate catalogue rows) still counts once
    return matrix


def _tag_names(tags: object) -> set[str]:
    if isinstance(tags, dict):
        return {str(name) for name, count in tags.items() if float(count) > 0}
    if isinstance(tags, list | tuple | np.ndarray):
        return {str(name) for name in tags}
    return set()


def _row_mean(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of each row's valid cells; NaN for a row without one."""
    count = valid.sum(axis=1)
    total = np.where(valid, values, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _mean(per_list: np.ndarray) -> float:
    finite = per_list[np.isfinite(per_list)]
    return float(finite.mean()) if finite.size else math.nan


def novelty(lists: np.ndarray, stats: CatalogueStats) -> float:
    """Mean self-information of the listed books (see the module docstring)."""
    rows = stats.rows(lists)
    raters = np.where(rows >= 0, stats.raters[np.maximum(rows, 0)], 0)
    info = -np.log2((raters + 1.0) / (stats.n_users + 1.0))
    return _mean(_row_mean(info, lists >= 0))


def average_popularity(lists: np.ndarray, stats: CatalogueStats) -> float:
    """ARP: mean share of training users who rated the listed books."""
    rows = stats.rows(lists)
    raters = np.where(rows >= 0, stats.raters[np.maximum(rows, 0)], 0)
    return _mean(_row_mean(raters / max(stats.n_users, 1), lists >= 0))


def head_share(lists: np.ndarray, stats: CatalogueStats) -> float:
    """Share of listed books in the popularity head (over all list slots)."""
    rows = stats.rows(lists)
    slots = lists >= 0
    if not slots.any():
        return math.nan
    in_head = (rows >= 0) & stats.head[np.maximum(rows, 0)]
    return float(in_head[slots].mean())


def tagged_share(lists: np.ndarray, stats: CatalogueStats) -> float:
    """Share of listed books that have at least one tag."""
    rows = stats.rows(lists)
    slots = lists >= 0
    if not slots.any():
        return math.nan
    sizes = np.diff(stats.tags.indptr)
    return float(((rows >= 0) & (sizes[np.maximum(rows, 0)] > 0))[slots].mean())


def intra_list_diversity(lists: np.ndarray, stats: CatalogueStats) -> float:
    """Mean pairwise tag-set Jaccard distance within lists (see the module docstring)."""
    sizes = np.diff(stats.tags.indptr)
    rows = stats.rows(lists)
    rows = np.where((rows >= 0) & (sizes[np.maximum(rows, 0)] > 0), rows, -1)
    first, second = np.triu_indices(lists.shape[1], 1)
    a, b = rows[:, first], rows[:, second]
    valid = (a >= 0) & (b >= 0)
    distances = np.zeros(a.shape, dtype=np.float64)
    if valid.any():
        distances[valid] = _pair_distances(a[valid], b[valid], stats.tags, sizes)
    return _mean(_row_mean(distances, valid))


def _pair_distances(
    a: np.ndarray, b: np.ndarray, tags: sp.csr_matrix, sizes: np.ndarray
) -> np.ndarray:
    """Jaccard distance of each (a, b) tag-set pair; every distinct pair computed once."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keys, inverse = np.unique(lo * tags.shape[0] + hi, return_inverse=True)
    ua, ub = keys // tags.shape[0], keys % tags.shape[0]
    shared = np.empty(keys.shape[0], dtype=np.float64)
    for start in range(0, keys.shape[0], _PAIR_CHUNK):
        part = slice(start, start + _PAIR_CHUNK)
        shared[part] = np.asarray(tags[ua[part]].multiply(tags[ub[part]]).sum(axis=1)).ravel()
    union = sizes[ua] + sizes[ub] - shared
    distance: np.ndarray = (1.0 - shared / union)[inverse.ravel()]
    return distance


def beyond_accuracy(lists: np.ndarray, stats: CatalogueStats) -> dict[str, float]:
    """Every metric of :data:`BEYOND_METRICS` for the lists (already cut at k)."""
    return {
        "novelty": novelty(lists, stats),
        "ild": intra_list_diversity(lists, stats),
        "arp": average_popularity(lists, stats),
        "head_share": head_share(lists, stats),
        "tagged": tagged_share(lists, stats),
    }


def holdout_lists(test: pd.DataFrame, users: np.ndarray, k: int) -> np.ndarray:
    """Each user's first ``k`` held-out positives (file order), -1 padded: what users
    actually read next, measured like a list for the report's reference row."""
    pairs = test[["user_id", "book_id"]].drop_duplicates()
    pairs = pairs[pairs["user_id"].isin(users)]
    slot = pairs.groupby("user_id", sort=False).cumcount().to_numpy()
    keep = slot < k
    rows = np.searchsorted(users, pairs["user_id"].to_numpy(dtype=np.int64)[keep])
    out = np.full((users.shape[0], k), -1, dtype=np.int64)
    out[rows, slot[keep]] = pairs["book_id"].to_numpy(dtype=np.int64)[keep]
    return out
