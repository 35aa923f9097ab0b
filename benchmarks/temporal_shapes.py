"""A MovieLens-shape rating generator with the time dynamics static CF cannot see.

What it plants (each a knob of :class:`TemporalShape`):

- *Releases*: a back catalogue exists from the start; the other items are released
  over global time, get a burst of attention that decays (``buzz``, ``buzz_decay``),
  and cannot be rated before release.
- *Users arrive over time*; most rate everything in a short burst, a share of them over
  a long span (``long_share``); activity is long-tailed (lognormal, at least
  ``min_activity`` ratings, as MovieLens keeps only users with >= 20).
- *Taste drift*: a user's taste moves from a start mix of genres towards another
  genre along their history (``drift``).
- *Sessions*: ratings come in sessions of about ``session`` items sharing a focus
  genre (``focus``).
- *Ratings* 1-5 follow the taste at the time plus item quality and user bias, mapped
  onto MovieLens-1M's rating shares (57% are >= 4).

Rows come out in global time order (``user_id, book_id, rating``), like GoodBooks'
``ratings.csv``: row order is the only clock a model gets.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

# MovieLens-1M's shares of ratings 1..5.
RATING_SHARES = (0.056, 0.108, 0.261, 0.349, 0.226)


@dataclasses.dataclass(frozen=True)
class TemporalShape:
    """The planted structure; the defaults are a MovieLens-1M-like shape."""

    n_users: int = 6000
    n_items: int = 3500
    mean_activity: float = 90.0
    min_activity: int = 20
    genres: int = 18
    dim: int = 16
    back_catalogue: float = 0.3
    zipf: float = 0.9
    buzz: float = 2.5
    buzz_decay: float = 0.06
    long_share: float = 0.25
    drift: float = 0.5
    session: int = 8
    taste: float = 0.12
    focus: float = 0.08
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class _Catalogue:
    vectors: np.ndarray  # items x dim
    centroids: np.ndarray  # genres x dim
    base: np.ndarray  # log popularity
    quality: np.ndarray
    release: np.ndarray  # global time in [0, 1)


def _catalogue(shape: TemporalShape, rng: np.random.Generator) -> _Catalogue:
    centroids = rng.normal(0, 1, (shape.genres, shape.dim)).astype(np.float32)
    genre = rng.integers(0, shape.genres, shape.n_items)
    noise = rng.normal(0, 0.7, (shape.n_items, shape.dim)).astype(np.float32)
    base = -shape.zipf * np.log(rng.permutation(shape.n_items) + 1.0).astype(np.float32)
    quality = 0.5 * base / max(float(np.abs(base).max()), 1.0) + rng.normal(0, 0.4, shape.n_items)
    release = np.where(
        rng.random(shape.n_items) < shape.back_catalogue, 0.0, rng.random(shape.n_items)
    )
    vectors = (centroids[genre] + noise).astype(np.float32)
    return _Catalogue(vectors, centroids, base, quality, release)


def _user_window(shape: TemporalShape, rng: np.random.Generator) -> tuple[float, float]:
    """Start and span of one user's activity in global time."""
    start = float(rng.uniform(0.02, 0.97))
    long = rng.random() < shape.long_share
    span = float(rng.uniform(0.1, 0.5)) if long else float(rng.exponential(0.005))
    return start, min(span, 0.999 - start)


def _activity(shape: TemporalShape, rng: np.random.Generator) -> int:
    raw = rng.lognormal(np.log(shape.mean_activity) - 0.6, 1.0)
    return int(np.clip(raw, shape.min_activity, shape.n_items // 3))


def _tastes(shape: TemporalShape, cat: _Catalogue, rng: np.random.Generator, n: int) -> np.ndarray:
    """Taste per session (n x dim), drifting from a start mix towards another genre."""
    start = cat.centroids[rng.integers(0, shape.genres, 2)].mean(axis=0)
    start = start + 0.5 * rng.normal(0, 1, shape.dim)
    end = cat.centroids[rng.integers(0, shape.genres)] + 0.5 * rng.normal(0, 1, shape.dim)
    share = shape.drift * np.linspace(0.0, 1.0, n)[:, None]
    return ((1.0 - share) * start + share * end).astype(np.float32)


def _logits(
    shape: TemporalShape,
    cat: _Catalogue,
    taste: np.ndarray,
    times: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Gumbel-perturbed choice logits per session (sessions x items): taste, session
    focus, popularity and release buzz; items not yet released are impossible."""
    focus_genre = np.argmax(
        taste @ cat.centroids.T + rng.gumbel(size=(len(times), shape.genres)), 1
    )
    focus = cat.centroids[focus_genre]
    age = (times[:, None] - cat.release[None, :]).astype(np.float32)
    logits = (shape.taste * taste + shape.focus * focus) @ cat.vectors.T + cat.base[None, :]
    logits += shape.buzz * np.exp(np.maximum(age, 0.0) / -shape.buzz_decay)
    logits += rng.gumbel(size=logits.shape).astype(np.float32)
    logits[age < 0.0] = -np.inf
    return logits


def _one_user(
    shape: TemporalShape, cat: _Catalogue, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(items, times, affinities) of one user's ratings, in time order."""
    n = _activity(shape, rng)
    sessions = max(1, int(np.ceil(n / shape.session)))
    start, span = _user_window(shape, rng)
    times = np.sort(start + span * rng.random(sessions))
    taste = _tastes(shape, cat, rng, sessions)
    logits = _logits(shape, cat, taste, times, rng)
    sizes = np.bincount(rng.integers(0, sessions, n - sessions), minlength=sessions) + 1
    taken = np.zeros(shape.n_items, dtype=bool)
    items, stamps, affinity = [], [], []
    for s in range(sessions):
        noisy = np.where(taken, -np.inf, logits[s])
        size = min(int(sizes[s]), int(np.isfinite(noisy).sum()))
        chosen = np.argpartition(-noisy, size - 1)[:size] if size else np.zeros(0, np.int64)
        chosen = rng.permutation(chosen)
        taken[chosen] = True
        items.append(chosen)
        stamps.append(times[s] + 1e-6 * np.arange(chosen.shape[0]))
        affinity.append(taste[s] @ cat.vectors[chosen].T)
    return np.concatenate(items), np.concatenate(stamps), np.concatenate(affinity)


def _ratings(scores: np.ndarray) -> np.ndarray:
    """Scores mapped onto the rating shares by quantiles."""
    cuts = np.quantile(scores, np.cumsum(RATING_SHARES)[:-1])
    return (np.searchsorted(cuts, scores) + 1).astype(np.int8)


def movielens(shape: TemporalShape) -> pd.DataFrame:
    """Ratings of ``shape``, in global time order."""
    rng = np.random.default_rng(shape.seed)
    cat = _catalogue(shape, rng)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    with threadpool_limits(1):  # tiny products: threaded BLAS only adds overhead
        for user in range(shape.n_users):
            items, times, affinity = _one_user(shape, cat, rng)
            bias = rng.normal(0, 0.5)
            parts.append((np.full(items.shape[0], user), items, times, affinity + bias))
    users, items, times, scores = (np.concatenate(p) for p in zip(*parts, strict=True))
    scores = scores / (scores.std() + 1e-9) + cat.quality[items]
    scores = scores + rng.normal(0, 0.6, scores.shape[0])
    order = np.argsort(times, kind="stable")
    return pd.DataFrame(
        {
            "user_id": users[order] + 1,
            "book_id": items[order] + 1,
            "rating": _ratings(scores)[order],
        }
    )
