"""Ranking under a filter or from seed books, for one loaded version.

A filtered list walks deeper into the user's precomputed list (one row of
``GBREC_PRECOMPUTE_DEPTH`` books, already in memory) and keeps the allowed books;
only when too few pass does the model score again, restricted to the allowed books
(``candidates``), so the list is full length whenever enough books pass. Seed books
(a reader the model does not know) are folded into the model per request.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gbrec_core.registry import ModelBundle
from gbrec_core.serving.filters import BookMask
from gbrec_core.serving.precompute import TopNTable
from gbrec_core.serving.similar import VectorSearch, similar_books

Ranked = tuple[list[int], list[float]]


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """What shapes a list beyond its length: allowed books, and seed books for a
    reader the model does not know (used only when it does not know the user)."""

    allowed: BookMask | None = None
    seeds: tuple[int, ...] = ()

    @property
    def plain(self) -> bool:
        return self.allowed is None and not self.seeds


def from_table(table: TopNTable | None, user_id: int, k: int, allowed: BookMask) -> Ranked | None:
    """The allowed part of the user's precomputed list, when it holds ``k`` of them
    (or the whole unread catalogue fits in the row); else None."""
    row = -1 if table is None else table.users.position(user_id)
    if table is None or row < 0:
        return None
    ids = table.ids[row]
    keep = np.flatnonzero(allowed.allows(ids))[:k]
    if keep.size >= k or ids[-1] < 0:  # enough, or the row holds every unread book
        return ids[keep].tolist(), table.scores[row, keep].astype(float).tolist()
    return None


def scored(bundle: ModelBundle, user_id: int, k: int, allowed: BookMask) -> Ranked:
    """The model's own top-``k`` for a known user over the allowed unread books only.

    The same scores and order as ``model.recommend`` (score, then item row, ascending),
    but ranked among the allowed columns alone: a narrow filter sorts a few hundred
    scores instead of selecting from the whole catalogue."""
    model = bundle.model
    assert model.users is not None and model.items is not None and model.seen is not None
    row = model.users.position(int(user_id))
    columns = np.flatnonzero(allowed.allows(model.items.ids))
    seen = model.seen.indices[model.seen.indptr[row] : model.seen.indptr[row + 1]]
    columns = columns[~np.isin(columns, seen)]
    scores = model.score_rows(np.array([row], dtype=np.int64))[0, columns]
    best = np.lexsort((columns, -scores))[:k]
    ids: list[int] = model.items.ids[columns[best]].tolist()
    return ids, scores[best].astype(float).tolist()


def seeded(bundle: ModelBundle, seeds: tuple[int, ...], k: int, allowed: BookMask | None) -> Ranked:
    """Top-``k`` for a new reader from the books they liked (seeds excluded)."""
    model = bundle.model
    assert model.items is not None
    candidates = None if allowed is None else allowed.allows(model.items.ids)
    top, scores = model.recommend_from_items(np.asarray(seeds, dtype=np.int64), k, None, candidates)
    keep = top >= 0
    return top[keep].tolist(), scores[keep].astype(float).tolist()


def popular(ids: np.ndarray, scores: np.ndarray, k: int, query: ListQuery) -> Ranked:
    """A popularity ranking cut to ``k`` allowed books, seeds left out."""
    keep = np.ones(ids.shape[0], dtype=bool)
    if query.allowed is not None:
        keep &= query.allowed.allows(ids)
    if query.seeds:
        keep &= ~np.isin(ids, np.asarray(query.seeds, dtype=np.int64))
    return ids[keep][:k].tolist(), scores[keep][:k].astype(float).tolist()


def similar_allowed(
    bundle: ModelBundle, book_id: int, k: int, index: VectorSearch | None, allowed: BookMask
) -> list[tuple[int, float]]:
    """Similar books that pass ``allowed``: searches 4x deeper until ``k`` pass or the
    whole catalogue was searched."""
    items = bundle.model.items
    total = len(items) if items is not None else k
    depth = k
    while True:
        pairs = similar_books(bundle, book_id, depth, index)
        ok = allowed.allows(np.array([p[0] for p in pairs], dtype=np.int64)).tolist()
        kept = [p for p, passes in zip(pairs, ok, strict=True) if passes]
        if len(kept) >= k or len(pairs) < depth or depth >= total:
            return kept[:k]
        depth = min(depth * 4, total)
