"""Relay-style connections: ``edges { cursor node }``, ``nodes`` and ``pageInfo``.

The contract's list fields (``experiments``, ``modelVersions``) stay plain lists; their
``...Connection`` twins page the same items the Relay way, with the same ``first`` /
``after`` (the cursor is the item's id). ``recommendations`` and ``auditLog`` carry the
same :class:`PageInfo`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type(description="Where a page ends: whether more items follow, and its cursor.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow (for ranked lists: within the ranked depth)."
    )
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null for an empty page."
    )


@strawberry.type(description="One item of a page and the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of items, Relay style.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The page's items (the edges' nodes), in order.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(items: list[T], cursor: Callable[[T], str], more: bool) -> Connection[T]:
    """A connection over ``items``; ``more``: whether items follow the last one."""
    edges = [Edge(cursor=cursor(item), node=item) for item in items]
    end = edges[-1].cursor if edges else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end))
