"""GraphQL types of the books domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.books.catalog import BookRecord
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


@strawberry.type(description="A book with its rank and score in a ranked list.")
class ScoredBook:
    rank: int
    score: float
    book: Book
