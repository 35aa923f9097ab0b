"""Queries of the books domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.types import Book
from gbrec_graphql.context import Info
from gbrec_graphql.fields import field


@strawberry.type
class BookQueries:
    @field(description="A book by its GoodBooks book_id; null when unknown.")
    async def book(self, info: Info, id: int) -> Book | None:
        await info.context.check_read()
        return info.context.services.books.one(id)
