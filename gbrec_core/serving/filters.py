"""Book filters: which books a ranked list may contain ("only fantasy, after 2000").

A :class:`BookFilter` is what a caller asks for; :meth:`CatalogIndex.mask` compiles it
once per request into a :class:`BookMask` (a boolean per book id, built from per-tag
and per-author index arrays, so a filter costs a few array operations, not a scan of
10k records). Ranking then keeps only allowed books *inside* the ranking: the list is
still full length whenever enough books pass.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np

from gbrec_core.errors import InvalidInputError


class TagsMatch(enum.Enum):
    """Whether a book needs ANY or ALL of the requested tags."""

    ANY = "any"
    ALL = "all"


@dataclasses.dataclass(frozen=True)
class BookFilter:
    """The books a list may contain; an empty filter allows every book.

    Tags and authors match case-insensitively and exactly (a tag name, one author);
    books without a year or rating fail ``year_from``/``year_to``/``min_average_rating``.
    """

    tags: tuple[str, ...] = ()
    tags_match: TagsMatch = TagsMatch.ANY
    exclude_tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    min_average_rating: float | None = None
    exclude_book_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        low, high = self.year_from, self.year_to
        if low is not None and high is not None and low > high:
            raise InvalidInputError(f"yearFrom ({low}) is after yearTo ({high})")
        rating = self.min_average_rating
        if rating is not None and not 0.0 <= rating <= 5.0:
            raise InvalidInputError(f"minAverageRating must be within [0, 5], got {rating}")

    @property
    def is_empty(self) -> bool:
        return not (self.exclude_book_ids or self.exclude_tags or self.exclude_authors) and (
            not self.needs_catalogue
        )

    @property
    def needs_catalogue(self) -> bool:
        """True when a book must be in the catalogue to pass (a positive attribute is
        asked); exclusions alone let unknown books through."""
        bounds = (self.year_from, self.year_to, self.min_average_rating)
        return bool(self.tags or self.authors) or any(b is not None for b in bounds)


@dataclasses.dataclass(frozen=True)
class BookMask:
    """Allowed books by id: ``dense[id]`` for ids inside the array, else ``default``."""

    dense: np.ndarray
    default: bool

    def allows(self, book_ids: np.ndarray) -> np.ndarray:
        """A boolean per id (any integer array; negative ids, i.e. padding, are False)."""
        ids = np.asarray(book_ids)
        if ids.size and ids.min() >= 0 and ids.max() < self.dense.shape[0]:
            found: np.ndarray = self.dense[ids]  # the usual case: one gather
            return found
        ids = ids.astype(np.int64, copy=False)
        inside = (ids >= 0) & (ids < self.dense.shape[0])
        out = np.where(inside, self.dense[np.where(inside, ids, 0)], self.default)
        allowed: np.ndarray = out & (ids >= 0)
        return allowed

    def keep(self, ids: list[int], scores: list[float]) -> tuple[list[int], list[float]]:
        """The allowed (id, score) pairs, order kept."""
        if not ids:
            return ids, scores
        flags = self.allows(np.asarray(ids)).tolist()
        kept = [(i, s) for i, s, ok in zip(ids, scores, flags, strict=True) if ok]
        return [i for i, _ in kept], [s for _, s in kept]
