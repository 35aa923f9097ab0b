"""GraphQL types of the recommendations domain."""

from __future__ import annotations

import strawberry

from gbrec_core.serving.service import RecommendationList
from gbrec_graphql.books.types import BookViews, ScoredBook, scored_books


@strawberry.type(description="A ranked list for one user and how it was produced.")
class Recommendations:
    request_id: str = strawberry.field(description="Quote it in recordEvents to attribute events.")
    user_id: int
    model_version: str
    variant: str | None
    experiment_id: str | None
    fallback: bool = strawberry.field(description="True when popularity answered (cold start).")
    items: list[ScoredBook]

    @classmethod
    def from_domain(cls, found: RecommendationList, books: BookViews) -> Recommendations:
        return cls(
            request_id=found.request_id,
            user_id=found.user_id,
            model_version=found.model_version,
            variant=found.variant,
            experiment_id=found.experiment_id,
            fallback=found.fallback,
            items=scored_books(books.many(found.book_ids), found.scores),
        )
