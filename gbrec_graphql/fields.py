"""Typed decorator forms of ``strawberry.field`` and ``strawberry.mutation`` for resolvers.

Called with keyword arguments only, Strawberry's decorators are typed as returning
``Any`` (the same call also declares plain attributes), so mypy calls every decorated
resolver untyped. These return exactly what Strawberry returns, typed as keeping the
resolver's signature, so resolvers stay type-checked without ``type: ignore``s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

F = TypeVar("F", bound=Callable[..., Any])


def field(*, description: str) -> Callable[[F], F]:
    return cast("Callable[[F], F]", strawberry.field(description=description))


def mutation(*, description: str) -> Callable[[F], F]:
    return cast("Callable[[F], F]", strawberry.mutation(description=description))
