"""GraphQL types of the books domain."""

from __future__ import annotations

from typing import Protocol

import strawberry

from gbrec_core.errors import InvalidInputError
from gbrec_core.serving import BookCatalog, BookRecord
from gbrec_core.serving.catalog import placeholder
from gbrec_graphql.internals import shared_view


@shared_view
@strawberry.type(description="A book of the catalogue (GoodBooks ids).")
class Book:
    id: int
    title: str
    authors: list[str]
    year: int | None
    average_rating: float | None
    image_url: str | None
    tags: list[str] = strawberry.field(description="The book's most-shelved tags, most used first.")

    @classmethod
    def from_domain(cls, record: BookRecord) -> Book:
        return cls(
            id=record.id,
            title=record.title,
            authors=record.authors,
            year=record.year,
            average_rating=record.average_rating,
            image_url=record.image_url,
            tags=record.tags,
        )


class BookViews:
    """The :class:`Book` of each catalogue book, built on first use and then shared.

    A Book is an immutable view of an immutable catalogue record (hence
    ``@shared_view``), and a recommendations answer needs ten per request: one dict
    lookup each instead of a catalogue lookup and a new object. Books missing from the
    catalogue get a placeholder, not kept.
    """

    def __init__(self, catalog: BookCatalog) -> None:
        self._catalog = catalog
        self._views: dict[int, Book] = {}

    def one(self, book_id: int) -> Book | None:
        """The view of a catalogue book; None when the catalogue lacks it."""
        if book_id in self._views or self._catalog.get(book_id) is not None:
            return self.many([book_id])[0]
        return None

    def many(self, book_ids: list[int]) -> list[Book]:
        views = self._views
        return [views.get(i) or self._build(i) for i in book_ids]

    def _build(self, book_id: int) -> Book:
        record = self._catalog.get(book_id)
        if record is None:
            return Book.from_domain(placeholder(book_id))
        book = self._views[book_id] = Book.from_domain(record)
        return book


#: The most books ``because`` names (what is computed once per list).
MAX_BECAUSE = 10


class BecauseSource(Protocol):
    """Explanations of a ranked list, by position in the page."""

    async def of(self, position: int) -> list[int]: ...


@strawberry.type(description="A book with its rank and score in a ranked list.")
class ScoredBook:
    rank: int
    score: float
    book: Book
    reasons: strawberry.Private[BecauseSource | None] = None
    position: strawberry.Private[int] = 0

    @strawberry.field(
        description="The reader's books (history, or seed books) that raised this "
        "book's score most, largest first (at most `limit`, 1..10); computed only when "
        "asked. Null where no reader is involved (similarBooks); empty for popularity "
        "answers."
    )
    async def because(self, info: strawberry.Info, limit: int = 3) -> list[Book] | None:
        if not 1 <= limit <= MAX_BECAUSE:
            raise InvalidInputError(f"because limit must be between 1 and {MAX_BECAUSE}")
        if self.reasons is None:
            return None
        ids = (await self.reasons.of(self.position))[:limit]
        views: BookViews = info.context.services.books
        return views.many(ids)


def scored_books(
    books: list[Book],
    scores: list[float],
    offset: int = 0,
    reasons: BecauseSource | None = None,
) -> list[ScoredBook]:
    return [
        ScoredBook(rank=offset + i + 1, score=float(score), book=book, reasons=reasons, position=i)
        for i, (book, score) in enumerate(zip(books, scores, strict=True))
    ]
