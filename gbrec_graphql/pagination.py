"""Cursor pagination for list fields that can grow (experiments, model versions).

The list fields of the contract stay lists; ``first``/``after`` are optional extra
arguments, and the cursor is the id of the last item the client saw, which stays
valid while items are added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from gbrec_core.errors import InvalidInputError

T = TypeVar("T")
MAX_PAGE = 500


def paginate(
    items: Sequence[T], *, key: Callable[[T], str], first: int | None, after: str | None
) -> list[T]:
    """Items after the one whose key is ``after``, at most ``first`` of them."""
    if first is not None and not 1 <= first <= MAX_PAGE:
        raise InvalidInputError(f"first must be between 1 and {MAX_PAGE}")
    start = 0
    if after is not None:
        keys = [key(item) for item in items]
        if after not in keys:
            raise InvalidInputError(f"unknown cursor {after!r}: pass an id from a previous page")
        start = keys.index(after) + 1
    stop = len(items) if first is None else start + first
    return list(items[start:stop])
