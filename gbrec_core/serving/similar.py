"""Similar books: a vector index over the item embeddings when one is attached, else the model."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from gbrec_core.errors import NotFoundError
from gbrec_core.registry import ModelBundle


class VectorSearch(Protocol):
    """The part of ``gbrec_core.index``'s VectorIndex the server uses."""

    def search(
        self, queries: np.ndarray, k: int, exclude: Any = None
    ) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class BookSearch(Protocol):
    """An index that keeps the item vectors it was built from, so it searches by book id.

    The pipeline indexes ALS vectors even when the serving model (EASE) has none, so
    the query vector cannot come from the bundle; None means "not stored, ask the model".
    """

    def similar_to(self, book_id: int, k: int) -> list[tuple[int, float]] | None: ...


def similar_books(
    bundle: ModelBundle, book_id: int, k: int, index: VectorSearch | None
) -> list[tuple[int, float]]:
    """Top-``k`` (book id, score) for ``book_id``, itself excluded; ``NotFoundError`` if unknown."""
    items = bundle.model.items
    if items is None or items.index_of(np.array([book_id]))[0] < 0:
        raise NotFoundError(f"book {book_id} is not in model's catalogue")
    if isinstance(index, BookSearch):
        found = index.similar_to(book_id, k)
        if found is not None:
            return found
    vectors = bundle.item_vectors
    if index is not None and vectors is not None:
        row = np.flatnonzero(vectors.book_ids == book_id)
        if row.size:
            query = vectors.vectors[row[:1]].astype(np.float32)
            ids, scores = index.search(query, k + 1)
            return _pairs(ids[0], scores[0], book_id, k)
    ids, scores = bundle.model.similar_items(np.array([book_id], dtype=np.int64), k=k)
    return _pairs(ids[0], scores[0], book_id, k)


def _pairs(ids: np.ndarray, scores: np.ndarray, book_id: int, k: int) -> list[tuple[int, float]]:
    keep = (ids >= 0) & (ids != book_id)
    return [(int(i), float(s)) for i, s in zip(ids[keep][:k], scores[keep][:k], strict=True)]
