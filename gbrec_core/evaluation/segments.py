"""Results per user segment: activity quartiles and new users.

**Activity quartiles**: test users binned by how many books they rated in training, at
the quartiles of that count over the evaluated users (a count equal to a quartile
goes to the lower bin, so tied users share a bin; a bin left empty by ties is not
shown). Labels name the bin's count range, e.g. ``Q1 (17-22 ratings)``.

**New users**: every user of GoodBooks (and of the synthetic sets) has many training
ratings, so "users with <= 5 ratings" is an empty segment. Instead a sample of test
users is replayed as new readers: only their first ``seeds`` liked (rating >= 4)
training books, in file order, are folded in (:meth:`Recommender.score_history`,
what serving does for a reader the model was not trained on), the seeds are excluded,
and the list is scored on the same held-out positives. The model did see those users'
other training ratings while fitting, so this is slightly optimistic for factor
models; it still shows how much each family needs a history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender, top_k
from gbrec_core.models.folding import history_rows
from gbrec_core.models.metrics import hit_matrix, per_user_metrics

NEW_USERS = "new users"
ALL_USERS = "all users"
SEGMENT_METRICS = ("ndcg", "recall")
_SCORE_BATCH = 500


def activity_segments(train: pd.DataFrame, users: np.ndarray) -> np.ndarray:
    """The quartile label of each user (row order of ``users``) by training ratings."""
    counts = train["user_id"].value_counts().reindex(users, fill_value=0).to_numpy()
    if counts.size == 0:
        return np.array([], dtype=object)
    edges = np.quantile(counts, [0.25, 0.5, 0.75])
    bins = np.searchsorted(edges, counts, side="left")
    labels = np.empty(counts.shape[0], dtype=object)
    for b in np.unique(bins).tolist():
        members = counts[bins == b]
        labels[bins == b] = f"Q{b + 1} ({members.min()}-{members.max()} ratings)"
    return labels


def segment_rows(
    labels: np.ndarray, per_user: dict[str, np.ndarray], family: str
) -> list[dict[str, object]]:
    """One row per segment (in label order) plus ``all users`` for one family."""
    rows: list[dict[str, object]] = [segment_summary(ALL_USERS, family, per_user, slice(None))]
    for label in sorted(set(labels.tolist())):
        rows.append(segment_summary(str(label), family, per_user, labels == label))
    return rows


def segment_summary(
    segment: str, family: str, per_user: dict[str, np.ndarray], members: slice | np.ndarray
) -> dict[str, object]:
    """Users and mean metrics of the ``members`` rows of ``per_user``."""
    values = {m: per_user[m][members] for m in SEGMENT_METRICS}
    n = int(values[SEGMENT_METRICS[0]].shape[0])
    means = {m: float(v.mean()) if n else float("nan") for m, v in values.items()}
    return {"segment": segment, "model": family, "users": n, **means}


def new_user_sample(
    train: pd.DataFrame, users: np.ndarray, *, seeds: int, max_users: int, seed: int = 0
) -> dict[int, np.ndarray]:
    """Up to ``max_users`` test users (seeded sample) with their first ``seeds`` liked
    training books: the same readers and seeds for every family."""
    liked = train[(train["rating"] >= 4) & train["user_id"].isin(users)]
    first = liked[liked.groupby("user_id", sort=False).cumcount() < seeds]
    ids = first["user_id"].to_numpy(dtype=np.int64)
    if ids.size == 0:
        return {}
    order = np.argsort(ids, kind="stable")
    owners, starts = np.unique(ids[order], return_index=True)
    parts = np.split(first["book_id"].to_numpy(dtype=np.int64)[order], starts[1:])
    by_user = dict(zip(owners.tolist(), parts, strict=True))
    eligible = np.array(sorted(by_user), dtype=np.int64)
    if eligible.size > max_users:
        eligible = np.sort(np.random.default_rng(seed).choice(eligible, max_users, replace=False))
    return {int(u): by_user[int(u)] for u in eligible}


def new_user_metrics(
    model: Recommender, sample: dict[int, np.ndarray], test: pd.DataFrame, k: int
) -> dict[str, np.ndarray]:
    """Per-user metrics@k of the seed-folded lists of ``sample`` (rows: sorted users)."""
    users = np.array(sorted(sample), dtype=np.int64)
    batches = [_fold_in(model, [sample[int(u)] for u in users[b]], k) for b in _batches(users)]
    lists = np.vstack(batches)
    pairs = test[test["user_id"].isin(users)][["user_id", "book_id"]].drop_duplicates()
    rows = np.searchsorted(users, pairs["user_id"].to_numpy(dtype=np.int64))
    hits = hit_matrix(lists, rows, pairs["book_id"].to_numpy(dtype=np.int64))
    return per_user_metrics(hits, np.bincount(rows, minlength=users.shape[0]), k)


def _batches(users: np.ndarray) -> list[slice]:
    return [slice(s, s + _SCORE_BATCH) for s in range(0, max(users.shape[0], 1), _SCORE_BATCH)]


def _fold_in(model: Recommender, seeds: list[np.ndarray], k: int) -> np.ndarray:
    """Top-k book ids for readers whose whole history is ``seeds`` (seeds excluded)."""
    if not seeds:
        return np.empty((0, k), dtype=np.int64)
    items = model.items
    if items is None:
        raise InvalidInputError("new-user evaluation needs a fitted model")
    known = [r[r >= 0] for r in (items.index_of(s) for s in seeds)]
    history = history_rows(known, len(items))
    scores = model.score_history(history)
    scores[history.nonzero()] = -np.inf
    top, _ = top_k(scores, k)
    return np.where(top >= 0, items.ids[np.maximum(top, 0)], -1)
