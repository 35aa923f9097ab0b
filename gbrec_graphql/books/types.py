"""GraphQL types of the books domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.catalog import BookCatalog, BookRecord, placeholder
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
    """The :class:`Book` of each catalogue book, built on first use and then shared.

    A Book is an immutable view of an immutable catalogue record, and a recommendations
    answer needs ten per request: one dict lookup each instead of a catalogue lookup
    and a new object. Books missing from the catalogue get a placeholder, not kept.
    """

    def __init__(self, catalog: BookCatalog) -> None:
        self._catalog = catalog
        self._views: dict[int, Book] = {}

    def many(self, book_ids: list[int]) -> list[Book]:
        views = self._views
        return [views.get(i) or self._build(i) for i in book_ids]

    def _build(self, book_id: int) -> Book:
        record = self._catalog.get(book_id)
        if record is None:
            return Book.from_domain(placeholder(book_id))
        book = self._views[book_id] = Book.from_domain(record)
        return book


@strawberry.type(description="A book with its rank and score in a ranked list.")
class ScoredBook:
    rank: int
    score: float
    book: Book
