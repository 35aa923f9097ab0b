"""Queries of the recommendations domain: adapters over gbrec_core's RecommendationService."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gbrec_core.serving.service import Page
from gbrec_graphql.books.types import ScoredBook, scored_books
from gbrec_graphql.context import Context, Info
from gbrec_graphql.fields import field
from gbrec_graphql.recommendations.filters import FilterArguments, TagsMatch, book_filter
from gbrec_graphql.recommendations.types import Recommendations

# No per-argument descriptions: the SDL keeps each signature on one line (the
# contract's form); the field descriptions and docs/api.md document the arguments.


async def serve_recommendations(
    ctx: Context,
    user_id: int,
    limit: int = 10,
    experiment_id: str | None = None,
    attributes: object = None,
    seed_book_ids: list[int] | None = None,
    offset: int = 0,
    after: str | None = None,
    **filters: object,
) -> Recommendations:
    """The ``recommendations`` root field: the resolver, and the compiled executor
    (gbrec_graphql.compiled), both answer through this one function; ``filters`` are
    the :class:`FilterArguments` fields."""
    await ctx.check_read()
    services = ctx.services
    found = await services.service.recommend(
        user_id,
        limit,
        experiment_id or ctx.experiment_header,
        attributes,
        record=not ctx.read_only,
        page=Page(offset, after),
        wanted=book_filter(filters),
        seeds=seed_book_ids or (),
    )
    ctx.request_id, ctx.model_version = found.request_id, found.model_version
    return Recommendations.from_domain(found, services.books, services.service)


@strawberry.type
class RecommendationQueries:
    @field(
        description="Top books for a user; unread only. With `experimentId` (or the "
        "X-Experiment-ID header) the user's variant answers and the exposure is recorded. "
        "Filters apply inside the ranking (the list stays full length when enough books "
        "pass): `tags` (with `tagsMatch` ANY/ALL), `excludeTags`, `authors`, "
        "`excludeAuthors`, `yearFrom`, `yearTo`, `minAverageRating`, `excludeBookIds`. "
        "`seedBookIds`: books a reader the model does not know liked; the list is folded "
        "from them (and excludes them). `offset`/`after` page within the ranked depth "
        "(offset + limit <= depth, else BAD_USER_INPUT)."
    )
    async def recommendations(
        self,
        info: Info,
        user_id: int,
        limit: int = 10,
        experiment_id: str | None = None,
        attributes: JSON | None = None,
        seed_book_ids: list[int] | None = None,
        offset: int = 0,
        after: str | None = None,
        tags: list[str] | None = None,
        tags_match: TagsMatch = TagsMatch.ANY,
        exclude_tags: list[str] | None = None,
        authors: list[str] | None = None,
        exclude_authors: list[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        min_average_rating: float | None = None,
        exclude_book_ids: list[int] | None = None,
    ) -> Recommendations:
        return await serve_recommendations(
            info.context,
            user_id,
            limit,
            experiment_id,
            attributes,
            seed_book_ids,
            offset,
            after,
            tags=tags,
            tags_match=tags_match,
            exclude_tags=exclude_tags,
            authors=authors,
            exclude_authors=exclude_authors,
            year_from=year_from,
            year_to=year_to,
            min_average_rating=min_average_rating,
            exclude_book_ids=exclude_book_ids,
        )

    @field(
        description="Books most similar to `bookId`, from the vector index; filters "
        "search deeper until `limit` books pass."
    )
    async def similar_books(
        self,
        info: Info,
        book_id: int,
        limit: int = 10,
        tags: list[str] | None = None,
        tags_match: TagsMatch = TagsMatch.ANY,
        exclude_tags: list[str] | None = None,
        authors: list[str] | None = None,
        exclude_authors: list[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        min_average_rating: float | None = None,
        exclude_book_ids: list[int] | None = None,
    ) -> list[ScoredBook]:
        ctx = info.context
        await ctx.check_read()
        wanted = FilterArguments(
            tags,
            tags_match,
            exclude_tags,
            authors,
            exclude_authors,
            year_from,
            year_to,
            min_average_rating,
            exclude_book_ids,
        ).to_core()
        found = await ctx.services.service.similar(book_id, limit, wanted)
        return scored_books(ctx.services.books.many(found.book_ids), found.scores)
