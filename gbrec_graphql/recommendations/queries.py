"""Queries of the recommendations domain."""

from __future__ import annotations

import asyncio
import time

import strawberry
from strawberry.scalars import JSON

from gbrec_core.errors import InvalidInputError
from gbrec_graphql.books.types import ScoredBook
from gbrec_graphql.context import Context, Info
from gbrec_graphql.fields import field
from gbrec_graphql.recommendations import routing
from gbrec_graphql.recommendations.types import Recommendations, scored_books
from gbrec_graphql.request_ids import new_request_id

MAX_LIMIT = 100


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


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
    check_limit(limit)
    services = ctx.services
    chosen = await routing.route(
        services, experiment_id or ctx.experiment_header, user_id, attributes
    )
    rec = None
    if chosen is not None:
        rec = await services.variants.recommend(chosen, user_id, limit)
        if rec is None:
            chosen = None  # the champion answers: served traffic, not experiment data
    if rec is None:
        rec = await services.server.arecommend(user_id, k=limit)
    request_id = new_request_id()
    if chosen is not None:
        await routing.record_exposure(services, chosen, user_id, request_id, rec.book_ids)
    # The list arrives whole and the catalogue is in memory: a DataLoader would
    # only add a scheduled batch (an event-loop turn and a future per book).
    books = services.books.many(rec.book_ids)
    services.metrics.served(rec.version, chosen.variant if chosen else "", rec.fallback)
    services.monitor.served(request_id, rec.version, rec.book_ids)
    return Recommendations(
        request_id=request_id,
        user_id=user_id,
        model_version=rec.version,
        variant=chosen.variant if chosen else None,
        experiment_id=chosen.experiment_id if chosen else None,
        fallback=rec.fallback,
        items=scored_books(books, rec.scores),
    )


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
        check_limit(limit)
        started = time.perf_counter()
        pairs = await asyncio.to_thread(ctx.services.server.similar, book_id, limit)
        ctx.services.metrics.similar_latency.observe(time.perf_counter() - started)
        book_ids = [int(b) for b, _ in pairs]
        books = ctx.services.books.many(book_ids)
        return scored_books(books, [float(s) for _, s in pairs])
