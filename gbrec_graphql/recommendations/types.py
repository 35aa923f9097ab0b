"""GraphQL types of the recommendations domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.catalog import BookRecord, placeholder
from gbrec_graphql.books.types import Book, BookViews, ScoredBook


@strawberry.type(description="A ranked list for one user and how it was produced.")
class Recommendations:
    request_id: str = strawberry.field(description="Quote it in recordEvents to attribute events.")
    user_id: int
    model_version: str
    variant: str | None
    experiment_id: str | None
    fallback: bool = strawberry.field(description="True when popularity answered (cold start).")
    items: list[ScoredBook]


_BOOKS = BookViews()


def scored_books(
    book_ids: list[int], scores: list[float], records: list[BookRecord | None]
) -> list[ScoredBook]:
    view = _BOOKS.get
    return [
        ScoredBook(
            rank=rank,
            score=float(score),
            book=view(record) if record is not None else Book.from_domain(placeholder(book_id)),
        )
        for rank, (book_id, score, record) in enumerate(
            zip(book_ids, scores, records, strict=True), start=1
        )
    ]
