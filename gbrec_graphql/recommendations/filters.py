"""The filter arguments of ``recommendations`` and ``similarBooks``, as a core BookFilter.

Flat arguments (not an input object) so that every one of them is a scalar, a list of
scalars or an enum: the compiled fast path takes those as they are.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

import strawberry

from gbrec_core.serving.filters import BookFilter
from gbrec_core.serving.filters import TagsMatch as CoreTagsMatch


@strawberry.enum(description="Whether a book needs ANY or ALL of the `tags` asked for.")
class TagsMatch(enum.Enum):
    ANY = "any"
    ALL = "all"


@dataclass(frozen=True)
class FilterArguments:
    """The GraphQL filter arguments as given (None: not asked)."""

    tags: list[str] | None = None
    tags_match: TagsMatch | str = TagsMatch.ANY
    exclude_tags: list[str] | None = None
    authors: list[str] | None = None
    exclude_authors: list[str] | None = None
    year_from: int | None = None
    year_to: int | None = None
    min_average_rating: float | None = None
    exclude_book_ids: list[int] | None = None

    def to_core(self) -> BookFilter:
        match = self.tags_match
        value = match.value if isinstance(match, TagsMatch) else str(match).lower()
        return BookFilter(
            tags=tuple(self.tags or ()),
            tags_match=CoreTagsMatch(value),
            exclude_tags=tuple(self.exclude_tags or ()),
            authors=tuple(self.authors or ()),
            exclude_authors=tuple(self.exclude_authors or ()),
            year_from=self.year_from,
            year_to=self.year_to,
            min_average_rating=self.min_average_rating,
            exclude_book_ids=tuple(self.exclude_book_ids or ()),
        )


def book_filter(arguments: Mapping[str, object]) -> BookFilter | None:
    """The core filter of the keyword arguments ``arguments`` (FilterArguments fields);
    None when no filter was asked for (``tagsMatch`` alone filters nothing), which
    spares the hot path building one per request."""
    if all(v is None for k, v in arguments.items() if k != "tags_match"):
        return None
    return FilterArguments(**arguments).to_core()  # type: ignore[arg-type]
