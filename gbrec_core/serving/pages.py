"""Pages of a ranked list: ``offset`` or an opaque ``after`` cursor, within the depth.

A recommendation list is a ranking computed per request, not a stored collection,
so a page is a window ``[start, start + limit)`` of it. The window must end within
the depth the server ranks to (``GBREC_PRECOMPUTE_DEPTH``, at least the largest
limit): deeper pages are refused rather than silently short. The cursor encodes the
position after the last book a client saw; it is opaque so that clients do not build
them, not secret.
"""

from __future__ import annotations

import base64
import binascii
import functools

from gbrec_core.errors import InvalidInputError

_PREFIX = "rank:"


@functools.lru_cache(maxsize=4096)  # positions repeat: every first page ends at 10
def encode_cursor(position: int) -> str:
    """The cursor of the list position ``position`` (0-based: next book's index)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position a cursor from :func:`encode_cursor` stands for."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position = int(text.removeprefix(_PREFIX)) if text.startswith(_PREFIX) else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = -1
    if position < 0:
        raise InvalidInputError(f"invalid cursor {cursor!r}: pass a previous endCursor")
    return position


def page_start(offset: int, after: str | None, limit: int, depth: int) -> int:
    """Where the page begins; refuses pages that end beyond ``depth``."""
    if offset < 0:
        raise InvalidInputError(f"offset must be >= 0, got {offset}")
    if after is not None and offset:
        raise InvalidInputError("pass either offset or after, not both")
    start = offset if after is None else decode_cursor(after)
    if start + limit > depth:
        raise InvalidInputError(
            f"offset + limit must be at most {depth} (the ranked depth), got {start + limit}"
        )
    return start
