"""Per-user train/test splits for offline evaluation.

Each user holds out ``round(n_u * test_fraction)`` ratings (never all of them):
the last ones in file order (= time) for :func:`temporal_split`, a seeded random
subset for :func:`random_split`. ``train`` keeps every other rating; ``test`` keeps
only held-out positives (rating >= ``positive_threshold``). Held-out non-positives
are dropped from both, so nothing leaks into training. Both are vectorised
(``groupby().cumcount()``), deterministic and keep the input's row order.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError


@dataclasses.dataclass(frozen=True)
class RatingSplit:
    """Training ratings and held-out positive test ratings."""

    train: pd.DataFrame
    test: pd.DataFrame


def _check(ratings: pd.DataFrame, test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise InvalidInputError(f"test_fraction must be in (0, 1), got {test_fraction}")
    missing = {"user_id", "book_id", "rating"} - set(ratings.columns)
    if missing:
        raise InvalidInputError(f"ratings lack column(s): {', '.join(sorted(missing))}")


def _held_out_count(sizes: np.ndarray, test_fraction: float) -> np.ndarray:
    # Round half up, but always leave at least one training rating per user.
    held = np.minimum(np.floor(sizes * test_fraction + 0.5), sizes - 1)
    return np.asarray(held, dtype=np.int64)


def _split(
    ratings: pd.DataFrame, rank: np.ndarray, test_fraction: float, positive_threshold: int
) -> RatingSplit:
    users = ratings["user_id"]
    sizes = users.map(users.value_counts()).to_numpy(dtype=np.int64)
    held = rank >= sizes - _held_out_count(sizes, test_fraction)
    positive = ratings["rating"].to_numpy() >= positive_threshold
    train = ratings.loc[~held].reset_index(drop=True)
    test = ratings.loc[held & positive].reset_index(drop=True)
    return RatingSplit(train=train, test=test)


def temporal_split(
    ratings: pd.DataFrame, test_fraction: float = 0.2, positive_threshold: int = 4
) -> RatingSplit:
    """Hold out the last ``test_fraction`` of each user's ratings in file order."""
    _check(ratings, test_fraction)
    rank = ratings.groupby("user_id", sort=False).cumcount().to_numpy()
    return _split(ratings, rank, test_fraction, positive_threshold)


def random_split(
    ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0, positive_threshold: int = 4
) -> RatingSplit:
    """Hold out a seeded random ``test_fraction`` of each user's ratings."""
    _check(ratings, test_fraction)
    keys = np.random.default_rng(seed).random(len(ratings))
    order = np.lexsort((keys, ratings["user_id"].to_numpy()))
    shuffled_users = ratings["user_id"].to_numpy()[order]
    # Position of each row in its user's random order: the same cumcount trick, permuted.
    rank_sorted = pd.Series(shuffled_users).groupby(shuffled_users, sort=False).cumcount()
    rank = np.empty(len(ratings), dtype=np.int64)
    rank[order] = rank_sorted.to_numpy()
    return _split(ratings, rank, test_fraction, positive_threshold)
