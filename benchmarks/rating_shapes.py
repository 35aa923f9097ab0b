"""Two quick rating generators of different structure, for tuning without overfitting one.

``latent``: low-rank genre tastes + long-tailed popularity (GoodBooks-like).
``series``: books come in ordered series and users read along them, with a weaker
low-rank component and a different activity curve: item-to-item structure dominates.
Both return (user_id, book_id, rating) rows in time order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _activity(rng: np.random.Generator, n_users: int, mean: float, low: int) -> np.ndarray:
    raw = rng.lognormal(np.log(mean) - 0.32, 0.8, n_users)
    return np.clip(raw, low, 600).astype(np.int64)


def _gumbel_pick(
    rng: np.random.Generator, logits: np.ndarray, counts: np.ndarray
) -> list[np.ndarray]:
    noisy = logits + rng.gumbel(size=logits.shape).astype(np.float32)
    order = np.argsort(-noisy, axis=1)
    return [order[i, : counts[i]] for i in range(order.shape[0])]


def _to_frame(
    rng: np.random.Generator,
    users: list[np.ndarray],
    items: list[np.ndarray],
    affinity: list[np.ndarray],
) -> pd.DataFrame:
    u = np.concatenate(users)
    i = np.concatenate(items)
    a = np.concatenate(affinity)
    z = (a - a.mean()) / (a.std() + 1e-9)
    rating = np.clip(np.rint(3.9 + 0.75 * z + rng.normal(0, 0.7, a.shape[0])), 1, 5)
    time = rng.random(u.shape[0])
    # Within each user the given order is kept; across users rows interleave by time.
    order = np.lexsort((time,))
    frame = pd.DataFrame({"user_id": u + 1, "book_id": i + 1, "rating": rating.astype(np.int8)})
    frame["t"] = frame.groupby("user_id").cumcount() + time
    return (
        frame.iloc[order].sort_values(["t"], kind="stable").drop(columns="t").reset_index(drop=True)
    )


def latent(n_users: int, n_items: int, mean_activity: float = 112, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    genres, dim = 24, 16
    centroids = rng.normal(0, 1, (genres, dim)).astype(np.float32)
    item_genre = rng.integers(0, genres, n_items)
    item_vec = centroids[item_genre] + 0.6 * rng.normal(0, 1, (n_items, dim)).astype(np.float32)
    pop = -1.1 * np.log(rng.permutation(n_items) + 1.0).astype(np.float32)
    counts = np.minimum(_activity(rng, n_users, mean_activity, 20), n_items // 2)
    users, items, aff = [], [], []
    for start in range(0, n_users, 1024):
        stop = min(start + 1024, n_users)
        taste = centroids[rng.integers(0, genres, (stop - start, 2))].mean(axis=1)
        taste += 0.5 * rng.normal(0, 1, taste.shape).astype(np.float32)
        logits = 0.35 * (taste @ item_vec.T) + pop
        picks = _gumbel_pick(rng, logits, counts[start:stop])
        for row, chosen in enumerate(picks):
            chosen = rng.permutation(chosen)
            users.append(np.full(chosen.shape[0], start + row))
            items.append(chosen)
            aff.append(taste[row] @ item_vec[chosen].T)
    return _to_frame(rng, users, items, aff)


def series(n_users: int, n_items: int, mean_activity: float = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    length = 5
    n_series = n_items // length
    dim = 8
    series_vec = rng.normal(0, 1, (n_series, dim)).astype(np.float32)
    pop = -1.4 * np.log(rng.permutation(n_series) + 1.0).astype(np.float32)
    counts = _activity(rng, n_users, mean_activity / 3, 3)
    counts = np.minimum(counts, n_series // 2)
    users, items, aff = [], [], []
    for start in range(0, n_users, 1024):
        stop = min(start + 1024, n_users)
        taste = rng.normal(0, 1, (stop - start, dim)).astype(np.float32)
        picks = _gumbel_pick(rng, 0.3 * (taste @ series_vec.T) + pop, counts[start:stop])
        for row, chosen in enumerate(picks):
            # Read each chosen series from book 1 for a geometric number of volumes.
            depth = np.minimum(rng.geometric(0.35, chosen.shape[0]), length)
            books = np.concatenate(
                [s * length + np.arange(d) for s, d in zip(chosen, depth, strict=True)]
            )
            sid = np.repeat(chosen, depth)
            order = np.lexsort(
                (
                    books % length,
                    rng.random(chosen.shape[0])[
                        np.searchsorted(np.sort(chosen), sid) % chosen.shape[0]
                    ],
                )
            )
            users.append(np.full(books.shape[0], start + row))
            items.append(books[order])
            aff.append(taste[row] @ series_vec[sid[order]].T)
    return _to_frame(rng, users, items, aff)


def skewed(n_users: int, n_items: int, mean_activity: float = 14, seed: int = 2) -> pd.DataFrame:
    """MovieLens-like: steep popularity, few ratings per user (>= 5), popular books rated higher."""
    rng = np.random.default_rng(seed)
    genres, dim = 12, 12
    centroids = rng.normal(0, 1, (genres, dim)).astype(np.float32)
    item_vec = centroids[rng.integers(0, genres, n_items)]
    item_vec = item_vec + 0.8 * rng.normal(0, 1, (n_items, dim)).astype(np.float32)
    rank = rng.permutation(n_items) + 1.0
    pop = -1.6 * np.log(rank).astype(np.float32)
    counts = np.minimum(_activity(rng, n_users, mean_activity, 5), n_items // 4)
    users, items, aff = [], [], []
    for start in range(0, n_users, 1024):
        stop = min(start + 1024, n_users)
        taste = centroids[rng.integers(0, genres, stop - start)]
        taste = taste + 0.7 * rng.normal(0, 1, taste.shape).astype(np.float32)
        picks = _gumbel_pick(rng, 0.25 * (taste @ item_vec.T) + pop, counts[start:stop])
        for row, chosen in enumerate(picks):
            chosen = rng.permutation(chosen)
            users.append(np.full(chosen.shape[0], start + row))
            items.append(chosen)
            # Popular books get better ratings, as on MovieLens.
            aff.append(taste[row] @ item_vec[chosen].T - 0.3 * np.log(rank[chosen]))
    return _to_frame(rng, users, items, aff)
