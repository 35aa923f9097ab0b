"""A vector index paired with the embeddings it was built from: search by book id."""

from __future__ import annotations

from typing import Any

import numpy as np

from gbrec_core.index import StoredEmbeddings, VectorIndex


class EmbeddingSearch:
    """What the API attaches to the ModelServer for similarBooks.

    The query vector of book b comes from the stored embeddings (the vectors the index
    was built from), not from the serving bundle, which may have none (EASE) or
    other ones (a hybrid indexed with ALS vectors).
    """

    def __init__(self, index: VectorIndex, embeddings: StoredEmbeddings) -> None:
        self.index = index
        self.embeddings = embeddings

    def __len__(self) -> int:
        return len(self.index)

    def search(
        self, queries: np.ndarray, k: int, exclude: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(queries, k, exclude)

    def similar_to(self, book_id: int, k: int) -> list[tuple[int, float]] | None:
        """Top-``k`` (book, inner product) for ``book_id``, itself excluded; None if unknown."""
        query = self.embeddings.vector_of(book_id)
        if query is None:
            return None
        ids, scores = self.search(query, k, exclude=[np.array([book_id], dtype=np.int64)])
        keep = ids[0] >= 0
        return [(int(i), float(s)) for i, s in zip(ids[0][keep], scores[0][keep], strict=True)]

    def stats(self) -> dict[str, Any]:
        return dict(self.index.stats())

    def close(self) -> None:
        self.index.close()
