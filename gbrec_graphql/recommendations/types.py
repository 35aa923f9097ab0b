"""GraphQL types of the recommendations domain."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.serving.pages import encode_cursor
from gbrec_core.serving.service import RecommendationList, RecommendationService
from gbrec_graphql.books.types import MAX_BECAUSE, BookViews, ScoredBook, scored_books
from gbrec_graphql.connections import PageInfo


class Reasons:
    """The ``because`` books of one answer, computed once, on the first ask: a list
    whose items nobody asks about never pays for explanations."""

    def __init__(self, service: RecommendationService, found: RecommendationList) -> None:
        self._service, self._found = service, found
        self._task: asyncio.Future[list[list[int]]] | None = None

    async def of(self, position: int) -> list[int]:
        if self._task is None:
            explained = self._service.explain(self._found, top=MAX_BECAUSE)
            self._task = asyncio.ensure_future(explained)
        return (await asyncio.shield(self._task))[position]


@strawberry.type(description="A ranked list for one user and how it was produced.")
class Recommendations:
    request_id: str = strawberry.field(description="Quote it in recordEvents to attribute events.")
    user_id: int
    model_version: str
    variant: str | None
    experiment_id: str | None
    fallback: bool = strawberry.field(description="True when popularity answered (cold start).")
    items: list[ScoredBook]
    page_info: PageInfo

    @classmethod
    def from_domain(
        cls, found: RecommendationList, books: BookViews, service: RecommendationService
    ) -> Recommendations:
        end = found.offset + len(found.book_ids)
        reasons = Reasons(service, found)
        return cls(
            request_id=found.request_id,
            user_id=found.user_id,
            model_version=found.model_version,
            variant=found.variant,
            experiment_id=found.experiment_id,
            fallback=found.fallback,
            items=scored_books(books.many(found.book_ids), found.scores, found.offset, reasons),
            page_info=PageInfo(
                has_next_page=found.has_next_page,
                end_cursor=encode_cursor(end) if found.book_ids else None,
            ),
        )
