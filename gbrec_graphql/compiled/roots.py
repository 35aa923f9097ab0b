"""The root fields the compiled executor may call directly.

Each entry maps a ``Query`` field to the plain async function its Strawberry resolver
delegates to, called as ``function(context, **arguments)`` with Python argument names.
A field belongs here only when its resolver is exactly that delegation (no other work
on ``info``), so both paths run the same code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gbrec_graphql.recommendations.queries import serve_recommendations

RootFunction = Callable[..., Awaitable[Any]]

ROOT_FUNCTIONS: dict[str, RootFunction] = {
    "recommendations": serve_recommendations,
}
