"""Cursor paging at the source: one fetch per page, ``hasNextPage`` included."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.paging import MAX_PAGE, load_page, with_next

IDS = [str(i) for i in range(1, 11)]


def evens(calls: list[int]) -> Callable[[int, str | None], list[str]]:
    """A filtering source: only even ids pass, as a status filter would."""

    def fetch(size: int, after: str | None) -> list[str]:
        calls.append(size)
        return load_page(IDS, lambda k: k if int(k) % 2 == 0 else None, first=size, after=after)

    return fetch


@pytest.mark.parametrize(
    ("first", "after", "page", "more"),
    [
        (2, None, ["2", "4"], True),
        (2, "4", ["6", "8"], True),
        (2, "8", ["10"], False),
        (3, "4", ["6", "8", "10"], False),  # a full last page: nothing follows
    ],
)
def test_a_page_and_whether_more_follow_in_one_fetch(
    first: int, after: str | None, page: list[str], more: bool
) -> None:
    calls: list[int] = []
    assert with_next(evens(calls), first=first, after=after) == (page, more)
    assert calls == [first + 1]


def test_page_sizes_are_checked_before_fetching() -> None:
    calls: list[int] = []
    for bad in (0, MAX_PAGE + 1):
        with pytest.raises(InvalidInputError, match="first must be between"):
            with_next(evens(calls), first=bad, after=None)
    assert calls == []
