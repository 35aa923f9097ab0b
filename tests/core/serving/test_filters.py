"""BookFilter masks agree with the obvious per-book predicate, on the test catalogue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.serving.catalog import BookCatalog, BookRecord
from gbrec_core.serving.filters import BookFilter, TagsMatch


@pytest.fixture(scope="module")
def catalog(catalogue_dir: Path) -> BookCatalog:
    return BookCatalog.from_folder(catalogue_dir)


def passes(book: BookRecord, wanted: BookFilter) -> bool:
    """The reference: one book against the filter, rule by rule."""
    tags = {t.casefold() for t in book.tags}
    authors = {a.casefold() for a in book.authors}
    asked = {t.casefold() for t in wanted.tags}
    if asked and wanted.tags_match is TagsMatch.ALL and not asked <= tags:
        return False
    if asked and wanted.tags_match is TagsMatch.ANY and not asked & tags:
        return False
    if {t.casefold() for t in wanted.exclude_tags} & tags:
        return False
    if wanted.authors and not {a.casefold() for a in wanted.authors} & authors:
        return False
    if {a.casefold() for a in wanted.exclude_authors} & authors:
        return False
    year, rating = book.year, book.average_rating
    if wanted.year_from is not None and (year is None or year < wanted.year_from):
        return False
    if wanted.year_to is not None and (year is None or year > wanted.year_to):
        return False
    low = wanted.min_average_rating
    if low is not None and (rating is None or rating < low):
        return False
    return book.id not in wanted.exclude_book_ids


def filters(catalog: BookCatalog) -> list[BookFilter]:
    books = [b for b in catalog.get_many(list(range(1, 12_000))) if b is not None]
    tags = sorted({t for b in books for t in b.tags})
    authors = sorted({a for b in books for a in b.authors})
    rng = np.random.default_rng(3)
    out = [BookFilter()]
    for _ in range(60):
        pick = lambda names, n: tuple(rng.choice(names, int(rng.integers(0, n + 1))).tolist())  # noqa: E731
        out.append(
            BookFilter(
                tags=tuple(t.upper() for t in pick(tags, 3)),
                tags_match=TagsMatch.ALL if rng.random() < 0.5 else TagsMatch.ANY,
                exclude_tags=pick(tags, 2),
                authors=pick(authors, 4) if rng.random() < 0.3 else (),
                exclude_authors=pick(authors, 3),
                year_from=int(rng.integers(1800, 2000)) if rng.random() < 0.4 else None,
                year_to=int(rng.integers(1990, 2020)) if rng.random() < 0.4 else None,
                min_average_rating=float(rng.uniform(3, 4.5)) if rng.random() < 0.4 else None,
                exclude_book_ids=tuple(int(i) for i in rng.integers(1, 300, 5)),
            )
        )
    return out


def test_masks_match_the_per_book_rule(catalog: BookCatalog) -> None:
    ids = np.arange(0, 12_000)
    for wanted in filters(catalog):
        try:
            allowed = catalog.mask(wanted).allows(ids)
        except InvalidInputError:
            continue  # yearFrom after yearTo: refused, checked below
        expected = [
            passes(book, wanted)
            if (book := catalog.get(i))
            else not wanted.needs_catalogue and i not in wanted.exclude_book_ids
            for i in ids.tolist()
        ]
        assert allowed.tolist() == expected


def test_unknown_books_pass_exclusions_only(catalog: BookCatalog) -> None:
    unknown = np.array([10**6, -1])
    assert catalog.mask(BookFilter(exclude_book_ids=(5,))).allows(unknown).tolist() == [True, False]
    assert catalog.mask(BookFilter(year_from=1900)).allows(unknown).tolist() == [False, False]


def test_contradictions_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="yearFrom"):
        BookFilter(year_from=2001, year_to=2000)
    with pytest.raises(InvalidInputError, match="minAverageRating"):
        BookFilter(min_average_rating=7.0)
