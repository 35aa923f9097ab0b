"""The book catalogue the API answers from: books.csv, tags.csv and book_tags.csv.

10k books and their top tags fit in a few MB, so the catalogue is loaded once in the
app lifespan and every lookup is a dict access; DataLoaders batch on top of it so a
response touching many books asks once per field, not once per book.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gbrec_core.data import load_book_tags, load_books, load_tags
from gbrec_core.data.schema import BOOK_TAGS_FILE, BOOKS_FILE, TAGS_FILE

log = logging.getLogger(__name__)

TAGS_PER_BOOK = 10


@dataclass(frozen=True)
class BookRecord:
    id: int
    title: str
    authors: list[str]
    year: int | None
    average_rating: float | None
    image_url: str | None


class BookCatalog:
    """Books by id and each book's most-used tags (by shelf count)."""

    def __init__(self, books: dict[int, BookRecord], tags: dict[int, list[str]]) -> None:
        self._books = books
        self._tags = tags

    @classmethod
    def empty(cls) -> BookCatalog:
        return cls({}, {})

    @classmethod
    def from_folder(cls, folder: Path) -> BookCatalog:
        books_frame = load_books(folder / BOOKS_FILE)
        books = {record.id: record for record in _records(books_frame)}
        tags: dict[int, list[str]] = {}
        if (folder / TAGS_FILE).is_file() and (folder / BOOK_TAGS_FILE).is_file():
            tags = _top_tags(
                books_frame, load_tags(folder / TAGS_FILE), load_book_tags(folder / BOOK_TAGS_FILE)
            )
        log.info("book catalogue: %d books, %d with tags", len(books), len(tags))
        return cls(books, tags)

    def __len__(self) -> int:
        return len(self._books)

    def get(self, book_id: int) -> BookRecord | None:
        return self._books.get(book_id)

    def get_many(self, book_ids: list[int]) -> list[BookRecord | None]:
        return [self._books.get(i) for i in book_ids]

    def tags(self, book_id: int) -> list[str]:
        return self._tags.get(book_id, [])


def placeholder(book_id: int) -> BookRecord:
    """What a book the model knows but the catalogue lacks looks like."""
    return BookRecord(book_id, f"Unknown book {book_id}", [], None, None, None)


def _records(frame: pd.DataFrame) -> list[BookRecord]:
    out = []
    for row in frame.to_dict("records"):
        year = _float(row["original_publication_year"])
        image_url = row["image_url"]
        out.append(
            BookRecord(
                id=int(row["book_id"]),
                title=str(row["title"]),
                authors=[a.strip() for a in str(row["authors"]).split(",") if a.strip()],
                year=int(year) if year is not None else None,
                average_rating=_float(row["average_rating"]),
                image_url=image_url if isinstance(image_url, str) else None,
            )
        )
    return out


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _top_tags(
    books: pd.DataFrame, tags: pd.DataFrame, book_tags: pd.DataFrame
) -> dict[int, list[str]]:
    # book_tags is keyed by goodreads_book_id; the API speaks the data set's book_id.
    ids = books[["book_id", "goodreads_book_id"]]
    joined = book_tags.merge(ids, on="goodreads_book_id").merge(tags, on="tag_id")
    joined = joined.sort_values(["book_id", "count"], ascending=[True, False])
    top = joined.groupby("book_id", sort=False).head(TAGS_PER_BOOK)
    out: dict[int, list[str]] = {}
    for book_id, name in zip(top["book_id"].to_numpy(), top["tag_name"].astype(str), strict=True):
        out.setdefault(int(book_id), []).append(name)
    return out
