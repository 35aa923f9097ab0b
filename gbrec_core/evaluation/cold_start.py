"""The cold-start protocol: readers the model never saw, recommended from a few seeds.

Whole users are held out of training; each gives 3-5 of the books they liked (rating
>= ``like``) as seeds, as at sign-up, and the list folded from those seeds
(:meth:`Recommender.recommend_from_items`) is scored by NDCG@k on the rest of what
they liked. Popularity scores the same way (the seeds only excluded), so the two are
directly comparable: the seeds must buy something over "what everyone reads".
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.base import Recommender
from gbrec_core.models.metrics import hit_matrix, per_user_metrics


@dataclasses.dataclass(frozen=True)
class ColdStartSplit:
    """Training ratings without the held-out users; their seeds and relevant books."""

    train: pd.DataFrame
    seeds: dict[int, list[int]]
    relevant: dict[int, list[int]]


def cold_start_split(
    ratings: pd.DataFrame,
    n_users: int,
    *,
    like: float = 4.0,
    seeds: tuple[int, int] = (3, 5),
    seed: int = 0,
) -> ColdStartSplit:
    """Hold out ``n_users`` users who liked enough books to have seeds and a test set."""
    rng = np.random.default_rng(seed)
    liked = ratings[ratings["rating"] >= like]
    counts = liked.groupby("user_id").size()
    eligible = counts[counts >= seeds[1] + 2].index.to_numpy()
    if eligible.size < n_users:
        raise InvalidInputError(f"only {eligible.size} users liked enough books for seeds")
    held = rng.choice(eligible, n_users, replace=False)
    given: dict[int, list[int]] = {}
    relevant: dict[int, list[int]] = {}
    held_rows = liked[liked["user_id"].isin(held)]
    for user in np.sort(held).tolist():
        books = held_rows.loc[held_rows["user_id"] == user, "book_id"].to_numpy()
        shuffled: list[int] = rng.permutation(books).tolist()
        n_seeds = int(rng.integers(seeds[0], seeds[1] + 1))
        given[user], relevant[user] = shuffled[:n_seeds], shuffled[n_seeds:]
    train = ratings[~ratings["user_id"].isin(held)].reset_index(drop=True)
    return ColdStartSplit(train, given, relevant)


def cold_start_ndcg(model: Recommender, split: ColdStartSplit, k: int = 10) -> float:
    """Mean NDCG@k of the seed-folded lists over the held-out users."""
    users = sorted(split.seeds)
    lists = np.stack([model.recommend_from_items(np.array(split.seeds[u]), k)[0] for u in users])
    rows = np.concatenate([np.full(len(split.relevant[u]), i) for i, u in enumerate(users)])
    items = np.concatenate([split.relevant[u] for u in users])
    hits = hit_matrix(lists, rows, items)
    n_relevant = np.array([len(split.relevant[u]) for u in users])
    return float(per_user_metrics(hits, n_relevant, k)["ndcg"].mean())
