"""Per-request DataLoaders over the catalogue (batched, cached for one request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from gbrec_graphql.books.catalog import BookCatalog, BookRecord


@dataclass
class Loaders:
    books: DataLoader[int, BookRecord | None]
    tags: DataLoader[int, list[str]]


def make_loaders(catalog: BookCatalog) -> Loaders:
    async def load_books(ids: Sequence[int]) -> list[BookRecord | None]:
        return [catalog.get(i) for i in ids]

    async def load_tags(ids: Sequence[int]) -> list[list[str]]:
        return [catalog.tags(i) for i in ids]

    return Loaders(books=DataLoader(load_fn=load_books), tags=DataLoader(load_fn=load_tags))
