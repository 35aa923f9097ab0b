"""Offline evaluation: full ranking over the catalogue, training items excluded.

The model must have been fitted on ``train``: its ``recommend(exclude_seen=True)``
removes exactly the training items, so the metrics measure what serving returns.
Every test user with at least one relevant (test) item is evaluated; test items the
model has never seen count in the denominators (they cannot be hit).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender
from gbrec_core.models.metrics import coverage, hit_matrix, ranking_metrics

log = logging.getLogger(__name__)

DEFAULT_KS = (1, 5, 10, 20, 50)


def _recommend_for_test(
    model: Recommender, train: pd.DataFrame, test: pd.DataFrame, max_k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top-max_k lists for every test user plus the relevant (row, item) pairs."""
    if max_k < 1:
        raise InvalidInputError(f"k must be >= 1, got {max_k}")
    _check_fitted_on(model, train)
    pairs = test[["user_id", "book_id"]].drop_duplicates()
    users, rows = np.unique(pairs["user_id"].to_numpy(dtype=np.int64), return_inverse=True)
    recommended, _ = model.recommend(users, k=max_k, exclude_seen=True)
    n_relevant = np.bincount(rows, minlength=users.shape[0])
    return recommended, rows, pairs["book_id"].to_numpy(dtype=np.int64), n_relevant


def _check_fitted_on(model: Recommender, train: pd.DataFrame) -> None:
    if model.seen is None:
        raise InvalidInputError("evaluate() needs a fitted model")
    pairs = len(train[["user_id", "book_id"]].drop_duplicates())
    if pairs != model.seen.nnz:
        raise InvalidInputError(
            f"model was fitted on {model.seen.nnz} (user, book) pairs but train has {pairs}; "
            "fit the model on the same training split you evaluate with"
        )


def evaluate_curve(
    model: Recommender,
    train: pd.DataFrame,
    test: pd.DataFrame,
    ks: tuple[int, ...] = DEFAULT_KS,
) -> pd.DataFrame:
    """One row per k with precision, recall, ndcg, map, hit_rate and coverage."""
    if not ks:
        raise InvalidInputError("ks must not be empty")
    recommended, rows, items, n_relevant = _recommend_for_test(model, train, test, max(ks))
    hits = hit_matrix(recommended, rows, items)
    catalogue = len(model.items) if model.items is not None else 0
    records = []
    for k in sorted(set(ks)):
        metrics = ranking_metrics(hits, n_relevant, k)
        metrics["coverage"] = coverage(recommended[:, :k], catalogue)
        records.append({"k": k, **metrics})
    log.info("evaluated %d users at k=%s", recommended.shape[0], sorted(set(ks)))
    return pd.DataFrame.from_records(records).set_index("k")


def evaluate(
    model: Recommender, train: pd.DataFrame, test: pd.DataFrame, k: int = 10
) -> dict[str, float]:
    """precision, recall, ndcg, map, hit_rate and coverage at ``k``."""
    row = evaluate_curve(model, train, test, ks=(k,)).loc[k]
    return {str(name): float(value) for name, value in row.items()}
