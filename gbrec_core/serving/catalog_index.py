"""Column arrays over the catalogue, so a :class:`BookFilter` compiles to a mask fast.

Built once per catalogue (lazily, on the first filtered request): for each tag and each
author the sorted book ids carrying it, and the year and average rating of every book
as arrays indexed by book id. A filter is then a handful of vectorised operations.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from gbrec_core.serving.filters import BookFilter, BookMask, TagsMatch

#: Compiled masks kept per catalogue (~10 KB each at GoodBooks scale).
CACHED_MASKS = 1024


class CatalogIndex:
    """Per-tag and per-author book id arrays plus year/rating columns by book id."""

    def __init__(
        self, records: Iterable[tuple[int, list[str], list[str], int | None, float | None]]
    ):
        rows = list(records)
        size = max((r[0] for r in rows), default=-1) + 1
        self.known = np.zeros(size, dtype=bool)
        self.year = np.full(size, np.nan)
        self.rating = np.full(size, np.nan)
        tags: dict[str, list[int]] = {}
        authors: dict[str, list[int]] = {}
        for book_id, book_tags, book_authors, year, rating in rows:
            self.known[book_id] = True
            self.year[book_id] = np.nan if year is None else year
            self.rating[book_id] = np.nan if rating is None else rating
            for tag in book_tags:
                tags.setdefault(tag.casefold(), []).append(book_id)
            for author in book_authors:
                authors.setdefault(author.casefold(), []).append(book_id)
        self._masks: dict[BookFilter, BookMask] = {}
        self.tags = {k: np.unique(v) for k, v in tags.items()}
        self.authors = {k: np.unique(v) for k, v in authors.items()}

    def mask(self, wanted: BookFilter) -> BookMask:
        """The books ``wanted`` allows (see :class:`BookFilter` for the matching rules).

        Masks are kept per filter (a frozen, hashable value; at most
        :data:`CACHED_MASKS`): a site sends the same few filters all day."""
        found = self._masks.get(wanted)
        if found is None:
            if len(self._masks) >= CACHED_MASKS:
                self._masks.clear()
            found = self._masks[wanted] = self._compile(wanted)
        return found

    def _compile(self, wanted: BookFilter) -> BookMask:
        size = max(self.known.shape[0], max(wanted.exclude_book_ids, default=-1) + 1)
        dense = _grown(self.known, size) if wanted.needs_catalogue else np.ones(size, dtype=bool)
        dense &= self._positive(wanted, size)
        for ids in self._lists(self.tags, wanted.exclude_tags):
            dense[ids] = False
        for ids in self._lists(self.authors, wanted.exclude_authors):
            dense[ids] = False
        excluded = np.asarray(wanted.exclude_book_ids, dtype=np.int64)
        dense[excluded[excluded >= 0]] = False
        return BookMask(dense, default=not wanted.needs_catalogue)

    def _positive(self, wanted: BookFilter, size: int) -> np.ndarray:
        keep = np.ones(size, dtype=bool)
        if wanted.tags:
            keep &= self._having(self.tags, wanted.tags, size, wanted.tags_match is TagsMatch.ALL)
        if wanted.authors:
            keep &= self._having(self.authors, wanted.authors, size, every=False)
        with np.errstate(invalid="ignore"):  # NaN (unknown) compares False: excluded
            if wanted.year_from is not None:
                keep &= _grown(self.year, size) >= wanted.year_from
            if wanted.year_to is not None:
                keep &= _grown(self.year, size) <= wanted.year_to
            if wanted.min_average_rating is not None:
                keep &= _grown(self.rating, size) >= wanted.min_average_rating
        return keep

    def _having(
        self, lists: dict[str, np.ndarray], names: tuple[str, ...], size: int, every: bool
    ) -> np.ndarray:
        """Books carrying any (or, with ``every``, all) of ``names``."""
        counts = np.zeros(size, dtype=np.int32)
        for ids in self._lists(lists, names):
            counts[ids] += 1
        needed = len({n.casefold() for n in names}) if every else 1
        having: np.ndarray = counts >= needed
        return having

    @staticmethod
    def _lists(lists: dict[str, np.ndarray], names: tuple[str, ...]) -> list[np.ndarray]:
        return [lists[n] for n in {name.casefold() for name in names} if n in lists]


def _grown(column: np.ndarray, size: int) -> np.ndarray:
    """A copy of ``column`` padded to ``size`` (False/NaN for ids it does not cover)."""
    out = np.zeros(size, dtype=bool) if column.dtype == bool else np.full(size, np.nan)
    out[: column.shape[0]] = column
    return out
