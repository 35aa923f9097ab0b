"""Cursor paging done at the source: the page is chosen on cheap keys (version numbers,
experiment ids) before anything expensive (an MLflow run, a Redis hash) is loaded.

``first``/``after`` are optional extra arguments of the contract's list fields; the
cursor is the key of the last item the client saw, which stays valid while items are
added. In the core ``first=None`` means every item; API fields default to
:data:`DEFAULT_PAGE` through :func:`page_size`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from gbrec_core.errors import InvalidInputError

T = TypeVar("T")
DEFAULT_PAGE = 50
MAX_PAGE = 500


def page_size(first: int | None) -> int:
    """An API page size: ``first``, checked, or :data:`DEFAULT_PAGE`."""
    if first is None:
        return DEFAULT_PAGE
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInputError(f"first must be between 1 and {MAX_PAGE}")
    return first


def after_cursor(keys: Sequence[str], after: str | None) -> int:
    """Index of the first key after cursor ``after`` (0 without one)."""
    if after is None:
        return 0
    try:
        return keys.index(after) + 1
    except ValueError:
        raise InvalidInputError(
            f"unknown cursor {after!r}: pass an id from a previous page"
        ) from None


def paginate(
    items: Sequence[T], *, key: Callable[[T], str], first: int | None, after: str | None
) -> list[T]:
    """Items after the one whose key is ``after``, at most ``first`` of them (a size
    the API checked with :func:`page_size`; None: all)."""
    start = after_cursor([key(item) for item in items], after)
    return list(items[start:] if first is None else items[start : start + first])


def load_page(
    keys: Sequence[str],
    load: Callable[[str], T | None],
    *,
    first: int | None,
    after: str | None,
) -> list[T]:
    """Load items key by key after the cursor until the page is full; ``load`` returns
    None for an item the caller filters out (e.g. another status)."""
    loaded: Iterator[T | None] = (load(k) for k in keys[after_cursor(keys, after) :])
    return list(islice(_present(loaded), first))


def with_next(
    fetch: Callable[[int, str | None], list[T]], *, first: int | None, after: str | None
) -> tuple[list[T], bool]:
    """A page of ``fetch(size, after)`` (an API page: ``first`` checked, default
    :data:`DEFAULT_PAGE`) and whether more items follow: one fetch of one item more
    than the page (so a filtering ``fetch`` answers it right)."""
    size = page_size(first)
    items = fetch(size + 1, after)
    return items[:size], len(items) > size


def _present(items: Iterable[T | None]) -> Iterator[T]:
    return (item for item in items if item is not None)


def spread(n: int, limit: int) -> list[int]:
    """Indices of at most ``limit`` of ``n`` items spread evenly, first and last kept."""
    if n <= limit:
        return list(range(n))
    if limit == 1:
        return [n - 1]
    return [round(i * (n - 1) / (limit - 1)) for i in range(limit)]
