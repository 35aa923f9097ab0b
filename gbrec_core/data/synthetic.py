"""Planted latent-factor model behind the synthetic GoodBooks data set.

Books belong to a primary (and secondary) genre; users mix a few genres. Which
books a user rates is sampled without replacement with probability proportional
to ``popularity^alpha * exp(beta * taste . book)`` (exponential-race top-k, batched
over users), so a collaborative model that learns tastes beats popularity. Ratings
come from taste affinity plus book quality and user bias, mapped onto the real
GoodBooks histogram by quantiles.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

ScaleName = Literal["tiny", "small", "goodbooks"]
# Real GoodBooks shares of ratings 1..5.
RATING_SHARES = (0.02, 0.06, 0.23, 0.36, 0.33)


@dataclasses.dataclass(frozen=True)
class SyntheticConfig:
    """Shape and strength of the planted structure."""

    n_users: int
    n_books: int
    n_genres: int
    mean_ratings: float
    min_ratings: int = 20
    max_ratings: int = 200
    mean_to_read: float = 18.0
    extra_dims: int = 8
    popularity_exponent: float = 1.0  # Zipf slope of the book popularity curve
    popularity_weight: float = 0.8
    taste_strength: float = 5.0
    taste_concentration: float = 0.3  # Dirichlet: small -> users focus on few genres
    rating_taste_weight: float = 0.8
    batch_users: int = 1024


SCALES: dict[str, SyntheticConfig] = {
    "tiny": SyntheticConfig(
        n_users=500, n_books=300, n_genres=8, mean_ratings=40, max_ratings=120, mean_to_read=6
    ),
    "small": SyntheticConfig(
        n_users=5_000, n_books=2_000, n_genres=12, mean_ratings=60, mean_to_read=10
    ),
    "goodbooks": SyntheticConfig(n_users=53_424, n_books=10_000, n_genres=16, mean_ratings=111.9),
}


@dataclasses.dataclass(frozen=True)
class PlantedModel:
    """The hidden truth: genres, vectors and popularity of every book and user."""

    book_genre: np.ndarray  # primary genre per book
    book_genre2: np.ndarray  # secondary genre per book
    book_vectors: np.ndarray  # (n_books, d) float32
    book_log_pop: np.ndarray  # (n_books,) float32
    book_quality: np.ndarray  # (n_books,) float32
    user_vectors: np.ndarray  # (n_users, d) float32
    user_bias: np.ndarray  # (n_users,) float32
    n_ratings: np.ndarray  # ratings per user
    n_to_read: np.ndarray  # to-read entries per user


@dataclasses.dataclass(frozen=True)
class Interactions:
    """Sampled (user, book) events with their latent rating score and time."""

    users: np.ndarray
    books: np.ndarray
    scores: np.ndarray
    times: np.ndarray
    to_read_users: np.ndarray
    to_read_books: np.ndarray
    to_read_times: np.ndarray


def _activity(rng: np.random.Generator, n: int, mean: float, lo: int, hi: int) -> np.ndarray:
    """Heavy-tailed counts >= lo, capped at hi, with the requested mean."""
    z = rng.standard_normal(n)
    mu, sigma = np.log(max(mean - lo, 1.0)) - 0.32, 0.8
    for _ in range(8):  # fixed-point on mu so clipping does not pull the mean down
        counts = np.clip(lo + np.exp(mu + sigma * z), lo, hi)
        mu += np.log((mean - lo) / max(counts.mean() - lo, 1e-9))
    counts = np.floor(np.clip(lo + np.exp(mu + sigma * z), lo, hi))
    return np.asarray(counts, dtype=np.int64)


def plant(config: SyntheticConfig, rng: np.random.Generator) -> PlantedModel:
    g, d = config.n_genres, config.n_genres + config.extra_dims
    n_b, n_u = config.n_books, config.n_users
    genre = rng.integers(0, g, n_b)
    genre2 = (genre + rng.integers(1, g, n_b)) % g
    books = np.zeros((n_b, d), dtype=np.float32)
    books[np.arange(n_b), genre] = 1.0
    books[np.arange(n_b), genre2] += 0.4
    books[:, g:] = rng.normal(0, 0.35, (n_b, config.extra_dims))
    ranks = rng.permutation(n_b) + 1.0
    log_pop = (-config.popularity_exponent * np.log(ranks)).astype(np.float32)
    quality = 0.15 * (log_pop - log_pop.mean()) / log_pop.std() + rng.normal(0, 0.35, n_b)
    mix = rng.dirichlet(np.full(g, config.taste_concentration), n_u)
    users = np.zeros((n_u, d), dtype=np.float32)
    users[:, :g] = mix
    users[:, g:] = rng.normal(0, 0.35, (n_u, config.extra_dims))
    hi = min(config.max_ratings, n_b // 2)
    n_ratings = _activity(rng, n_u, config.mean_ratings, min(config.min_ratings, hi), hi)
    n_to_read = np.minimum(rng.poisson(config.mean_to_read, n_u), n_b // 4)
    return PlantedModel(
        genre,
        genre2,
        books,
        log_pop,
        quality.astype(np.float32),
        users,
        rng.normal(0, 0.4, n_u).astype(np.float32),
        n_ratings,
        n_to_read,
    )


def _sample_batch(
    config: SyntheticConfig, model: PlantedModel, lo: int, hi: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    """Rated and to-read books of users lo..hi-1, by an exponential race over all books."""
    uvec = model.user_vectors[lo:hi]
    logits = config.taste_strength * (uvec @ model.book_vectors.T)
    logits += config.popularity_weight * model.book_log_pop
    np.exp(logits - logits.max(axis=1, keepdims=True), out=logits)
    keys = rng.standard_exponential(logits.shape, dtype=np.float32)
    keys /= logits  # smallest E/w first == sampling without replacement proportional to w
    need = model.n_ratings[lo:hi] + model.n_to_read[lo:hi]
    kmax = int(need.max())
    top = np.argpartition(keys, kmax - 1, axis=1)[:, :kmax]
    order = np.argsort(np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    pos = np.arange(kmax)[None, :]
    rated = pos < model.n_ratings[lo:hi, None]
    to_read = ~rated & (pos < need[:, None])
    rows = np.broadcast_to(np.arange(lo, hi)[:, None], top.shape)
    users, books = rows[rated], top[rated]
    aff = np.einsum("ij,ij->i", model.user_vectors[users], model.book_vectors[books])
    return users, books, aff, rows[to_read], top[to_read]


def _times(
    rng: np.random.Generator, users: np.ndarray, start: np.ndarray, span: np.ndarray
) -> np.ndarray:
    return np.asarray(start[users] + span[users] * rng.random(users.shape[0]))


def sample(config: SyntheticConfig, model: PlantedModel, seed: int) -> Interactions:
    """All interactions; each user batch has its own seeded stream, so results are exact."""
    n_u, step = config.n_users, config.batch_users
    parts: list[tuple[np.ndarray, ...]] = []
    for i, lo in enumerate(range(0, n_u, step)):
        rng = np.random.default_rng([seed, 1, i])
        parts.append(_sample_batch(config, model, lo, min(lo + step, n_u), rng))
    users, books, aff, tr_users, tr_books = (
        np.concatenate([p[k] for p in parts]) for k in range(5)
    )
    rng = np.random.default_rng([seed, 2])
    start, span = rng.random(n_u) * 0.8, 0.02 + rng.random(n_u) * 0.2
    aff = (aff - aff.mean()) / max(float(aff.std()), 1e-9)
    noise = rng.normal(0, 0.6, users.shape[0])
    scores = (
        config.rating_taste_weight * aff
        + model.book_quality[books]
        + model.user_bias[users]
        + noise
    ).astype(np.float32)
    return Interactions(
        users,
        books,
        scores,
        _times(rng, users, start, span),
        tr_users,
        tr_books,
        _times(rng, tr_users, start, span),
    )


def discretise(scores: np.ndarray, shares: tuple[float, ...] = RATING_SHARES) -> np.ndarray:
    """Map latent scores onto ratings 1..5 so their histogram matches ``shares``."""
    cuts = np.quantile(scores, np.cumsum(shares)[:-1])
    return (np.searchsorted(cuts, scores, side="right") + 1).astype(np.int8)
