"""Synthetic books.csv, tags.csv and book_tags.csv, tied to the planted genres."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from gbrec_core.data import synthetic_words as w


@dataclasses.dataclass(frozen=True)
class TagVocabulary:
    """tags.csv plus which tag ids are generic, genre-specific and noise."""

    tags: pd.DataFrame
    generic: np.ndarray
    genre: np.ndarray  # (n_genres, 5) tag ids
    noise: np.ndarray


def make_tags(n_genres: int, n_noise: int) -> TagVocabulary:
    """Tag names sorted alphabetically and numbered in that order, as in the real file."""
    genre_names = [list(tags) for tags, _ in w.GENRES[:n_genres]]
    noise: list[str] = []
    for i, a in enumerate(w.NOISE_WORDS):
        for j, b in enumerate(w.NOISE_WORDS):
            if a != b and len(noise) < n_noise and (i * 7 + j) % 3 == 0:
                noise.append(f"{a}-{b}")
    for year in range(2005, 2005 + max(0, n_noise - len(noise))):
        noise.append(f"read-in-{year}")
    names = sorted({*w.GENERIC_TAGS, *(t for g in genre_names for t in g), *noise})
    ids = {name: i for i, name in enumerate(names)}
    return TagVocabulary(
        tags=pd.DataFrame({"tag_id": np.arange(len(names)), "tag_name": names}),
        generic=np.array([ids[t] for t in w.GENERIC_TAGS]),
        genre=np.array([[ids[t] for t in g] for g in genre_names]),
        noise=np.array([ids[t] for t in noise]),
    )


def _titles(rng: np.random.Generator, genre: np.ndarray) -> tuple[list[str], list[str]]:
    n = len(genre)
    adj = rng.integers(0, len(w.ADJECTIVES), n)
    noun = rng.integers(0, 8, n)
    noun2 = rng.integers(0, 8, n)
    place = rng.integers(0, len(w.PLACES), n)
    template = rng.integers(0, 5, n)
    series = rng.random(n) < 0.25
    number = rng.integers(1, 6, n)
    suffix = rng.integers(0, len(w.SERIES_SUFFIXES), n)
    originals, titles = [], []
    for i in range(n):
        nouns = w.GENRES[genre[i]][1]
        a, x, y, p = w.ADJECTIVES[adj[i]], nouns[noun[i]], nouns[noun2[i]], w.PLACES[place[i]]
        base = (f"The {a} {x}", f"{x} of {p}", f"The {x}'s {y}", f"A {a} {x}", f"{a} {x}s")
        title = base[template[i]]
        originals.append(title)
        if series[i]:
            title = f"{title} (The {y} {w.SERIES_SUFFIXES[suffix[i]]}, #{number[i]})"
        titles.append(title)
    return originals, titles


def _authors(rng: np.random.Generator, genre: np.ndarray, n_genres: int) -> list[str]:
    """Each genre has its own author pool, so authors carry genre signal too."""
    n = len(genre)
    per_genre = max(2, n // (3 * n_genres))
    pools = rng.integers(0, len(w.FIRST_NAMES) * len(w.LAST_NAMES), (n_genres, per_genre))
    weights = 1.0 / np.arange(1, per_genre + 1)
    pick = rng.choice(per_genre, n, p=weights / weights.sum())
    co = rng.random(n) < 0.1
    co_pick = rng.integers(0, len(w.FIRST_NAMES) * len(w.LAST_NAMES), n)

    def name(code: int) -> str:
        first, last = divmod(int(code), len(w.LAST_NAMES))
        return f"{w.FIRST_NAMES[first]} {w.LAST_NAMES[last]}"

    return [
        name(pools[genre[i], pick[i]]) + (f", {name(co_pick[i])}" if co[i] else "")
        for i in range(n)
    ]


def make_books(
    rng: np.random.Generator,
    genre: np.ndarray,
    histogram: np.ndarray,
    goodreads_ids: np.ndarray,
    n_genres: int,
) -> pd.DataFrame:
    """books.csv rows for books ordered by id; ``histogram`` is (n_books, 5) rating counts."""
    n = len(genre)
    scale = rng.uniform(50, 300, n)[:, None]
    counts = np.maximum(np.rint(histogram * scale), 0).astype(np.int64)
    counts[counts.sum(axis=1) == 0, 3] = 1
    total = counts.sum(axis=1)
    avg = (counts * np.arange(1, 6)).sum(axis=1) / total
    work_ratings = (total * rng.uniform(1.0, 1.1, n)).astype(np.int64)
    classics = genre == 7
    year = np.where(classics, rng.integers(1800, 1960, n), rng.integers(1950, 2018, n))
    year_text = np.where(rng.random(n) < 0.002, "", np.char.add(year.astype(str), ".0"))
    isbn = rng.integers(10**8, 10**10, n)
    stamp = rng.integers(1_300_000_000, 1_500_000_000, n)
    originals, titles = _titles(rng, genre)
    lang = rng.choice(len(w.LANGUAGES), n, p=np.array(w.LANGUAGE_SHARES))
    cols: dict[str, object] = {
        "book_id": np.arange(1, n + 1),
        "goodreads_book_id": goodreads_ids,
        "best_book_id": goodreads_ids,
        "work_id": goodreads_ids + 1_000_000,
        "books_count": rng.integers(1, 300, n),
        "isbn": isbn.astype(str),
        "isbn13": [f"{9.78e12 + x:.11e}" for x in isbn],
        "authors": _authors(rng, genre, n_genres),
        "original_publication_year": year_text,
        "original_title": np.where(rng.random(n) < 0.05, "", np.array(originals, dtype=object)),
        "title": titles,
        "language_code": np.array(w.LANGUAGES, dtype=object)[lang],
        "average_rating": [f"{x:.2f}" for x in avg],
        "ratings_count": total,
        "work_ratings_count": work_ratings,
        "work_text_reviews_count": (work_ratings * rng.uniform(0.02, 0.06, n)).astype(np.int64),
    }
    for k in range(5):
        cols[f"ratings_{k + 1}"] = counts[:, k]
    url = "https://images.gr-assets.com/books/"
    cols["image_url"] = [f"{url}{s}m/{g}.jpg" for s, g in zip(stamp, goodreads_ids, strict=True)]
    cols["small_image_url"] = [
        f"{url}{s}s/{g}.jpg" for s, g in zip(stamp, goodreads_ids, strict=True)
    ]
    return pd.DataFrame(cols)


def make_book_tags(
    rng: np.random.Generator,
    vocab: TagVocabulary,
    genre: np.ndarray,
    genre2: np.ndarray,
    goodreads_ids: np.ndarray,
    ratings_count: np.ndarray,
    n_noise_per_book: int,
) -> pd.DataFrame:
    """Generic shelves for every book, genre shelves by planted genre, random noise shelves."""
    n = len(genre)
    base = ratings_count.astype(np.float64)[:, None]
    n_generic = len(vocab.generic)
    parts = [
        (
            np.repeat(np.arange(n), n_generic),
            np.tile(vocab.generic, n),
            base * rng.uniform(0.01, 0.3, (n, n_generic)) * (np.arange(n_generic) == 0) * 3
            + base * rng.uniform(0.001, 0.05, (n, n_generic)),
        ),
        (
            np.repeat(np.arange(n), 5),
            vocab.genre[genre].ravel(),
            base * rng.uniform(0.02, 0.2, (n, 5)),
        ),
        (
            np.repeat(np.arange(n), 2),
            vocab.genre[genre2][:, :2].ravel(),
            base * rng.uniform(0.002, 0.02, (n, 2)),
        ),
    ]
    k = min(n_noise_per_book, len(vocab.noise))
    picks = np.argpartition(rng.random((n, len(vocab.noise))), k - 1, axis=1)[:, :k]
    parts.append(
        (np.repeat(np.arange(n), k), vocab.noise[picks].ravel(), rng.uniform(1, 40, (n, k)))
    )
    book = np.concatenate([p[0] for p in parts])
    tag = np.concatenate([p[1] for p in parts])
    count = np.maximum(np.concatenate([np.ravel(p[2]) for p in parts]).astype(np.int64), 1)
    frame = pd.DataFrame({"goodreads_book_id": goodreads_ids[book], "tag_id": tag, "count": count})
    # A secondary genre may share tags with the primary one: keep the larger count.
    frame = frame.sort_values(
        ["goodreads_book_id", "count", "tag_id"], ascending=[True, False, True], kind="stable"
    )
    return frame.drop_duplicates(["goodreads_book_id", "tag_id"]).reset_index(drop=True)
