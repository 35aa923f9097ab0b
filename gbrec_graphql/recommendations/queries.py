"""Queries of the recommendations domain: adapters over gbrec_core's RecommendationService."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gbrec_graphql.books.types import ScoredBook, scored_books
from gbrec_graphql.context import Context, Info
from gbrec_graphql.fields import field
from gbrec_graphql.recommendations.types import Recommendations


async def serve_recommendations(
    ctx: Context,
    user_id: int,
    limit: int = 10,
    experiment_id: str | None = None,
    attributes: object = None,
) -> Recommendations:
    """The ``recommendations`` root field: the resolver, and the compiled executor
    (gbrec_graphql.compiled), both answer through this one function."""
    await ctx.check_read()
    services = ctx.services
    found = await services.service.recommend(
        user_id,
        limit,
        experiment_id or ctx.experiment_header,
        attributes,
        record=not ctx.read_only,
    )
    return Recommendations.from_domain(found, services.books)


@strawberry.type
class RecommendationQueries:
    @field(
        description="Top books for a user; unread only. With `experimentId` (or the "
        "X-Experiment-ID header) the user's variant answers and the exposure is recorded."
    )
    async def recommendations(
        self,
        info: Info,
        user_id: int,
        limit: int = 10,
        experiment_id: str | None = None,
        attributes: JSON | None = None,
    ) -> Recommendations:
        return await serve_recommendations(info.context, user_id, limit, experiment_id, attributes)

    @field(description="Books most similar to `bookId`, from the vector index.")
    async def similar_books(self, info: Info, book_id: int, limit: int = 10) -> list[ScoredBook]:
        ctx = info.context
        await ctx.check_read()
        found = await ctx.services.service.similar(book_id, limit)
        return scored_books(ctx.services.books.many(found.book_ids), found.scores)
