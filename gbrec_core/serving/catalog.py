"""The book catalogue recommendations are answered with: books.csv, tags.csv, book_tags.csv.

10k books and their top tags fit in a few MB, so the catalogue is loaded once per
process (the API lifespan, the CLI) and every lookup is a dict access.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gbrec_core.data import load_book_tags, load_books, load_tags
from gbrec_core.data.schema import BOOK_TAGS_FILE, BOOKS_FILE, TAGS_FILE
from gbrec_core.serving.catalog_index import CatalogIndex
from gbrec_core.serving.filters import BookFilter, BookMask
from gbrec_core.settings import Settings

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
    #: The book's most-shelved tags, most used first (at most ``TAGS_PER_BOOK``).
    tags: list[str] = dataclasses.field(default_factory=list)


class BookCatalog:
    """Books by id, each with its most-used tags (by shelf count)."""

    def __init__(self, books: dict[int, BookRecord]) -> None:
        self._books = books

    @classmethod
    def empty(cls) -> BookCatalog:
        return cls({})

    @classmethod
    def from_folder(cls, folder: Path) -> BookCatalog:
        return cls.from_frame(load_books(folder / BOOKS_FILE), folder)

    @classmethod
    def from_frame(cls, books_frame: pd.DataFrame, folder: Path) -> BookCatalog:
        """The catalogue of an already loaded books.csv; tags from ``folder`` when present."""
        tags: dict[int, list[str]] = {}
        if (folder / TAGS_FILE).is_file() and (folder / BOOK_TAGS_FILE).is_file():
            tags = _top_tags(
                books_frame, load_tags(folder / TAGS_FILE), load_book_tags(folder / BOOK_TAGS_FILE)
            )
        books = {record.id: record for record in _records(books_frame, tags)}
        log.info("book catalogue: %d books, %d with tags", len(books), len(tags))
        return cls(books)

    def __len__(self) -> int:
        return len(self._books)

    def get(self, book_id: int) -> BookRecord | None:
        return self._books.get(book_id)

    def get_many(self, book_ids: list[int]) -> list[BookRecord | None]:
        return [self._books.get(i) for i in book_ids]

    def record(self, book_id: int) -> BookRecord:
        """The book, or a placeholder when the model knows it but the catalogue does not."""
        return self._books.get(book_id) or placeholder(book_id)

    @functools.cached_property
    def index(self) -> CatalogIndex:
        """Tag/author/year/rating columns for filters (built on first use)."""
        return CatalogIndex(
            (r.id, r.tags, r.authors, r.year, r.average_rating) for r in self._books.values()
        )

    def mask(self, wanted: BookFilter) -> BookMask:
        """The books of this catalogue ``wanted`` allows."""
        return self.index.mask(wanted)


def catalog_folder(settings: Settings) -> Path:
    """Where ``settings.dataset`` lives, without generating or downloading anything.

    Serving must start fast and never fetch data; the asset graph (or ``gbrec data``)
    materialises the data set, and until then books show placeholder titles.
    """
    if settings.dataset == "synthetic":
        return settings.data_dir / f"synthetic-{settings.synthetic_scale}"
    if settings.dataset == "goodbooks-10k":
        return settings.data_dir / "goodbooks-10k"
    return Path(settings.dataset).expanduser()


def load_catalog(settings: Settings) -> tuple[BookCatalog, pd.DataFrame | None]:
    """The catalogue of ``settings``' data set and its books frame (None: not there yet)."""
    folder = catalog_folder(settings)
    if not (folder / BOOKS_FILE).is_file():
        log.warning("no books.csv under %s; book titles will be placeholders", folder)
        return BookCatalog.empty(), None
    books = load_books(folder / BOOKS_FILE)
    return BookCatalog.from_frame(books, folder), books


def placeholder(book_id: int) -> BookRecord:
    """What a book the model knows but the catalogue lacks looks like."""
    return BookRecord(book_id, f"Unknown book {book_id}", [], None, None, None)


def _records(frame: pd.DataFrame, tags: dict[int, list[str]]) -> list[BookRecord]:
    out = []
    for row in frame.to_dict("records"):
        year = _float(row["original_publication_year"])
        image_url = row["image_url"]
        book_id = int(row["book_id"])
        out.append(
            BookRecord(
                id=book_id,
                title=str(row["title"]),
                authors=[a.strip() for a in str(row["authors"]).split(",") if a.strip()],
                year=int(year) if year is not None else None,
                average_rating=_float(row["average_rating"]),
                image_url=image_url if isinstance(image_url, str) else None,
                tags=tags.get(book_id, []),
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
