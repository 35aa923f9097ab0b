"""GraphQL types of the recommendations domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.types import Book, ScoredBook


@strawberry.type(description="A ranked list for one user and how it was produced.")
class Recommendations:
    request_id: str = strawberry.field(description="Quote it in recordEvents to attribute events.")
    user_id: int
    model_version: str
    variant: str | None
    experiment_id: str | None
    fallback: bool = strawberry.field(description="True when popularity answered (cold start).")
    items: list[ScoredBook]


def scored_books(books: list[Book], scores: list[float]) -> list[ScoredBook]:
    return [
        ScoredBook(rank=rank, score=float(score), book=book)
        for rank, (book, score) in enumerate(zip(books, scores, strict=True), start=1)
    ]
