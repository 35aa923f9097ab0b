"""Top-k ranking metrics over whole user batches (binary relevance).

For a user with relevant set R (|R| >= 1) and a ranked list whose i-th item (1-based)
has ``hit_i`` in {0, 1}:

- precision@k = sum(hit_i, i <= k) / k
- recall@k    = sum(hit_i, i <= k) / |R|                (the standard denominator)
- NDCG@k      = sum(hit_i / log2(i + 1)) / sum(1 / log2(i + 1), i <= min(k, |R|))
- AP@k        = sum(hit_i * precision@i) / min(k, |R|)  (MAP is its mean over users)
- hit rate@k  = 1 if any hit_i else 0

Every function here takes a boolean ``hits`` matrix (n_users, k) and is vectorised.
"""

from __future__ import annotations

import numpy as np

from gbrec_core.errors import InvalidInputError

METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


def hit_matrix(
    recommended: np.ndarray, relevant_rows: np.ndarray, relevant_items: np.ndarray
) -> np.ndarray:
    """``hits[u, i]``: is ``recommended[u, i]`` among the (row, item) relevant pairs?"""
    recommended = np.asarray(recommended, dtype=np.int64)
    n_rows = recommended.shape[0]
    width = int(max(recommended.max(initial=0), np.max(relevant_items, initial=0))) + 2
    rows = np.arange(n_rows, dtype=np.int64)[:, None]
    # Padding (-1) maps to item slot 0 after +1, which no relevant pair uses.
    keys = rows * width + (recommended + 1)
    relevant = np.asarray(relevant_rows, dtype=np.int64) * width + (
        np.asarray(relevant_items, dtype=np.int64) + 1
    )
    return np.isin(keys, relevant) & (recommended >= 0)


def _discounts(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def per_user_metrics(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Each metric per user from the first ``k`` columns of ``hits``."""
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    if k < 1 or k > hits.shape[1]:
        raise InvalidInputError(f"k must be in 1..{hits.shape[1]}, got {k}")
    if np.any(n_relevant < 1):
        raise InvalidInputError("every evaluated user needs at least one relevant item")
    h = hits[:, :k].astype(np.float64)
    n_hits = h.sum(axis=1)
    discounts = _discounts(k)
    ideal_len = np.minimum(n_relevant, k).astype(np.int64)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[ideal_len]
    precision_at_i = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    return {
        "precision": n_hits / k,
        "recall": n_hits / n_relevant,
        "ndcg": (h * discounts).sum(axis=1) / ideal,
        "map": (h * precision_at_i).sum(axis=1) / np.minimum(n_relevant, k),
        "hit_rate": (n_hits > 0).astype(np.float64),
    }


def ranking_metrics(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, float]:
    """Means over users of :func:`per_user_metrics`."""
    if hits.shape[0] == 0:
        return dict.fromkeys(METRICS, 0.0)
    return {
        name: float(values.mean()) for name, values in per_user_metrics(hits, n_relevant, k).items()
    }


def coverage(recommended: np.ndarray, catalogue_size: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    if catalogue_size <= 0:
        return 0.0
    shown = np.unique(recommended[recommended >= 0])
    return float(shown.shape[0] / catalogue_size)
