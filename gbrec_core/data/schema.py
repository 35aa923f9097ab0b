"""The GoodBooks-10k file schemas: one :class:`TableSpec` per CSV file.

Loaders read the compact dtypes declared here; the validator checks the same
specs, so a file that validates clean always loads.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Kind = Literal["int", "float", "str"]

RATINGS_FILE = "ratings.csv"
BOOKS_FILE = "books.csv"
TAGS_FILE = "tags.csv"
BOOK_TAGS_FILE = "book_tags.csv"
TO_READ_FILE = "to_read.csv"
FILES = (RATINGS_FILE, BOOKS_FILE, TAGS_FILE, BOOK_TAGS_FILE, TO_READ_FILE)


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind, compact dtype, nullability and value bounds."""

    name: str
    kind: Kind
    dtype: str = "object"
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    is_id: bool = False


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """A file: its columns in order and the columns that must be unique together."""

    file: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}


def _id(name: str, dtype: str = "int32", minimum: float = 1) -> ColumnSpec:
    return ColumnSpec(name, "int", dtype, minimum=minimum, is_id=True)


def _count(name: str) -> ColumnSpec:
    return ColumnSpec(name, "int", "int64", minimum=0)


RATINGS = TableSpec(
    RATINGS_FILE,
    (_id("user_id"), _id("book_id"), ColumnSpec("rating", "int", "int8", minimum=1, maximum=5)),
    key=("user_id", "book_id"),
)

TO_READ = TableSpec(TO_READ_FILE, (_id("user_id"), _id("book_id")))

TAGS = TableSpec(
    TAGS_FILE,
    (_id("tag_id", minimum=0), ColumnSpec("tag_name", "str")),
    key=("tag_id",),
)

# Real counts are popularity counts of shelves; goodreads has a handful of negative
# ones, so no lower bound is enforced on ``count``.
BOOK_TAGS = TableSpec(
    BOOK_TAGS_FILE,
    (_id("goodreads_book_id"), _id("tag_id", minimum=0), ColumnSpec("count", "int", "int32")),
)

BOOKS = TableSpec(
    BOOKS_FILE,
    (
        _id("book_id"),
        _id("goodreads_book_id"),
        _id("best_book_id"),
        _id("work_id"),
        _count("books_count"),
        ColumnSpec("isbn", "str", nullable=True),
        ColumnSpec("isbn13", "float", "float64", nullable=True),
        ColumnSpec("authors", "str"),
        # The real file has ancient works with negative years (e.g. -1750).
        ColumnSpec("original_publication_year", "float", "float32", nullable=True),
        ColumnSpec("original_title", "str", nullable=True),
        ColumnSpec("title", "str"),
        ColumnSpec("language_code", "str", nullable=True),
        ColumnSpec("average_rating", "float", "float32", minimum=0, maximum=5),
        _count("ratings_count"),
        _count("work_ratings_count"),
        _count("work_text_reviews_count"),
        _count("ratings_1"),
        _count("ratings_2"),
        _count("ratings_3"),
        _count("ratings_4"),
        _count("ratings_5"),
        ColumnSpec("image_url", "str"),
        ColumnSpec("small_image_url", "str"),
    ),
    key=("book_id",),
)

SPECS: dict[str, TableSpec] = {s.file: s for s in (RATINGS, BOOKS, TAGS, BOOK_TAGS, TO_READ)}
