"""Offline evaluation: full ranking over the catalogue, training items excluded.

The model must have been fitted on ``train``: its ``recommend(exclude_seen=True)``
removes exactly the training items, so the metrics measure what serving returns.
Every test user with at least one relevant (test) item is evaluated; test items the
model has never seen count in the denominators (they cannot be hit).

:func:`rank_test_users` ranks once; the curve, the per-user metrics, the
beyond-accuracy metrics and the segments (:mod:`gbrec_core.evaluation.report`) are
all read off the same :class:`RankedLists`.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender
from gbrec_core.models.metrics import coverage, hit_matrix, per_user_metrics, ranking_metrics

log = logging.getLogger(__name__)

DEFAULT_KS = (1, 5, 10, 20, 50)


@dataclasses.dataclass(frozen=True)
class RankedLists:
    """Every test user's top-``depth`` list and which slots hit a held-out positive.

    Rows follow ``users`` (sorted test user ids). ``recommended`` pads with -1;
    ``catalogue`` is how many books the model can recommend (for coverage).
    """

    users: np.ndarray
    recommended: np.ndarray
    hits: np.ndarray
    n_relevant: np.ndarray
    catalogue: int

    def per_user(self, k: int) -> dict[str, np.ndarray]:
        """precision, recall, ndcg, map and hit_rate@k of every user (row order)."""
        return per_user_metrics(self.hits, self.n_relevant, k)

    def metrics(self, k: int) -> dict[str, float]:
        """The means over users at ``k``, with catalogue coverage."""
        return {
            **ranking_metrics(self.hits, self.n_relevant, k),
            "coverage": coverage(self.recommended[:, :k], self.catalogue),
        }


def rank_test_users(
    model: Recommender, train: pd.DataFrame, test: pd.DataFrame, depth: int
) -> RankedLists:
    """Rank the catalogue for every test user once, ``depth`` deep, seen books excluded."""
    if depth < 1:
        raise InvalidInputError(f"k must be >= 1, got {depth}")
    _check_fitted_on(model, train)
    pairs = test[["user_id", "book_id"]].drop_duplicates()
    users, rows = np.unique(pairs["user_id"].to_numpy(dtype=np.int64), return_inverse=True)
    recommended, _ = model.recommend(users, k=depth, exclude_seen=True)
    return RankedLists(
        users=users,
        recommended=recommended,
        hits=hit_matrix(recommended, rows, pairs["book_id"].to_numpy(dtype=np.int64)),
        n_relevant=np.bincount(rows, minlength=users.shape[0]),
        catalogue=len(model.items) if model.items is not None else 0,
    )


def _check_fitted_on(model: Recommender, train: pd.DataFrame) -> None:
    if model.seen is None:
        raise InvalidInputError("evaluate() needs a fitted model")
    pairs = len(train[["user_id", "book_id"]].drop_duplicates())
    if pairs != model.seen.nnz:
        raise InvalidInputError(
            f"model was fitted on {model.seen.nnz} (user, book) pairs but train has {pairs}; "
            "fit the model on the same training split you evaluate with"
        )


def metric_curve(lists: RankedLists, ks: tuple[int, ...]) -> pd.DataFrame:
    """One row per k (at most the lists' depth) with the means of :meth:`RankedLists.metrics`."""
    if not ks:
        raise InvalidInputError("ks must not be empty")
    records = [{"k": k, **lists.metrics(k)} for k in sorted(set(ks))]
    return pd.DataFrame.from_records(records).set_index("k")


def evaluate_curve(
    model: Recommender,
    train: pd.DataFrame,
    test: pd.DataFrame,
    ks: tuple[int, ...] = DEFAULT_KS,
) -> pd.DataFrame:
    """One row per k with precision, recall, ndcg, map, hit_rate and coverage."""
    if not ks:
        raise InvalidInputError("ks must not be empty")
    lists = rank_test_users(model, train, test, max(ks))
    log.info("evaluated %d users at k=%s", lists.users.shape[0], sorted(set(ks)))
    return metric_curve(lists, ks)


def evaluate(
    model: Recommender, train: pd.DataFrame, test: pd.DataFrame, k: int = 10
) -> dict[str, float]:
    """precision, recall, ndcg, map, hit_rate and coverage at ``k``."""
    row = evaluate_curve(model, train, test, ks=(k,)).loc[k]
    return {str(name): float(value) for name, value in row.items()}
