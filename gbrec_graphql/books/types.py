"""GraphQL types of the books domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.catalog import BookRecord
from gbrec_graphql.context import Info
from gbrec_graphql.fields import field


@strawberry.type(description="A book of the catalogue (GoodBooks ids).")
class Book:
    id: int
    title: str
    authors: list[str]
    year: int | None
    average_rating: float | None
    image_url: str | None

    @field(description="The book's most-shelved tags, most used first.")
    async def tags(self, info: Info) -> list[str]:
        return await info.context.loaders.tags.load(self.id)

    @classmethod
    def from_domain(cls, record: BookRecord) -> Book:
        return cls(
            id=record.id,
            title=record.title,
            authors=record.authors,
            year=record.year,
            average_rating=record.average_rating,
            image_url=record.image_url,
        )


class BookViews:
    """One :class:`Book` per catalogue record, built on first use and then shared.

    A Book is an immutable view of an immutable record, and a recommendations answer
    builds ten of them per request; sharing saves building them again. Entries are
    keyed by the record object (its ``id()``, checked by identity, the record held so
    the id stays unique); placeholders for books outside the catalogue are not kept.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._views: dict[int, tuple[BookRecord, Book]] = {}

    def get(self, record: BookRecord) -> Book:
        hit = self._views.get(id(record))
        if hit is not None and hit[0] is record:
            return hit[1]
        book = Book.from_domain(record)
        if len(self._views) >= self.max_entries:
            self._views.clear()
        self._views[id(record)] = (record, book)
        return book


@strawberry.type(description="A book with its rank and score in a ranked list.")
class ScoredBook:
    rank: int
    score: float
    book: Book
