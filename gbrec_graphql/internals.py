"""The one home of the framework internals the fast paths rely on.

The compiled queries, the plain-field execution context and the router lane reach
into Strawberry, graphql-core and Starlette below their documented APIs. Every such
name is reached through this module, which is why ``pyproject.toml`` bounds those
packages above the newest minor versions tested, and :func:`missing_internals` lists
what a new release removed: ``tests/graphql/test_internals.py`` fails naming it.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema
from graphql.execution import ExecutionContext
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.execute import get_field_def
from graphql.execution.values import get_argument_values, get_variable_values
from starlette.applications import Starlette
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document

__all__ = [
    "ExecutionContextBase",
    "NameConverter",
    "RequestBodyLimitMiddleware",
    "ServerErrorMiddleware",
    "alias_rule",
    "bare_response",
    "cache_body",
    "collect_fields",
    "collect_sub_fields",
    "depth_rule",
    "get_argument_values",
    "get_field_def",
    "get_variable_values",
    "graphql_schema",
    "is_default_resolver",
    "missing_internals",
    "name_converter",
    "shared_view",
    "strawberry_field",
    "type_is_shared",
    "validate_document",
]

T = TypeVar("T")

#: Strawberry's execution context (graphql-core's, plus its error handling).
ExecutionContextBase = StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"
_SHARED = "__gbrec_shared_view__"


def graphql_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built."""
    built: GraphQLSchema = schema._schema
    return built


def name_converter(schema: Schema) -> NameConverter:
    return schema.config.name_converter


def strawberry_field(field_def: GraphQLField) -> Any:
    """Strawberry's definition of a field (``python_name``, ``arguments``,
    ``default_resolver``), or None for a field Strawberry did not define."""
    return field_def.extensions.get(_DEFINITION)


def is_default_resolver(resolve: Any) -> bool:
    """True for the resolver Strawberry gives a plain attribute field (getattr, no info)."""
    return resolve is not None and getattr(resolve, "_is_default", False) is True


def shared_view(cls: type[T]) -> type[T]:
    """Mark a Strawberry type whose instances resolvers share across requests and never
    mutate, so compiled serialisers may reuse what they produced for the same object."""
    setattr(cls, _SHARED, True)
    return cls


def type_is_shared(type_: GraphQLObjectType) -> bool:
    definition = type_.extensions.get(_DEFINITION)
    origin = getattr(definition, "origin", None)
    return bool(getattr(origin, _SHARED, False))


def cache_body(request: Request, body: bytes) -> None:
    """Store an already read body where ``Request.body()`` looks first."""
    request._body = body


def bare_response() -> Response:
    """What Strawberry's ``get_sub_response`` builds (a Response without status or
    headers for resolvers to fill), without running Starlette's header set-up."""
    response = Response.__new__(Response)
    response.status_code = None  # type: ignore[assignment]
    response.raw_headers = []
    response.background = None
    response.body = b""
    return response


def _has(owner: object, attribute: str) -> Callable[[], bool]:
    return lambda: hasattr(owner, attribute)


def _sets(function: Callable[..., Any], attribute: str) -> Callable[[], bool]:
    """An attribute an ``__init__`` (or method) assigns, so it is not on the class."""
    pattern = re.compile(rf"self\.{attribute}\b[^=\n]*=")
    return lambda: pattern.search(inspect.getsource(function)) is not None


@strawberry.type(name="Probe")
class _Probe:
    name: str


@strawberry.type(name="Query")
class _ProbeQuery:
    @strawberry.field
    def probe(self, first_arg: int = 1) -> _Probe:
        return _Probe(name="x")


@functools.cache
def _probe_schema() -> Schema:
    """A two-type schema whose build shows how this Strawberry lays out its fields."""
    return Schema(query=_ProbeQuery)


def _field(type_name: str, field_name: str) -> GraphQLField:
    type_ = graphql_schema(_probe_schema()).get_type(type_name)
    assert isinstance(type_, GraphQLObjectType)
    return type_.fields[field_name]


def _plain_field_marked() -> bool:
    field = _field("Probe", "name")
    definition = strawberry_field(field)
    return is_default_resolver(field.resolve) and definition.default_resolver is getattr


def _field_definition_shape() -> bool:
    definition = strawberry_field(_field("Query", "probe"))
    return definition.python_name == "probe" and [a.python_name for a in definition.arguments] == [
        "first_arg"
    ]


def _origin_reachable() -> bool:
    type_ = graphql_schema(_probe_schema()).get_type("Probe")
    assert isinstance(type_, GraphQLObjectType)
    return getattr(type_.extensions.get(_DEFINITION), "origin", None) is not None


#: What the fast paths use below the frameworks' documented APIs, by name.
CHECKS: dict[str, Callable[[], bool]] = {
    "strawberry Schema._schema": _sets(Schema.__init__, "_schema"),
    "strawberry Schema.config.name_converter": lambda: hasattr(
        _probe_schema().config, "name_converter"
    ),
    "strawberry field extension 'strawberry-definition' (python_name, arguments)": (
        _field_definition_shape
    ),
    "strawberry default resolver marker _is_default": _plain_field_marked,
    "strawberry type definition origin": _origin_reachable,
    "graphql-core ExecutionContext.build_resolve_info": _has(
        ExecutionContext, "build_resolve_info"
    ),
    "graphql-core ExecutionContext.complete_value": _has(ExecutionContext, "complete_value"),
    "graphql-core ExecutionContext.handle_field_error": _has(
        ExecutionContext, "handle_field_error"
    ),
    "graphql-core ExecutionContext.execute_field": _has(ExecutionContext, "execute_field"),
    "graphql-core ExecutionContext.execute_fields": _has(ExecutionContext, "execute_fields"),
    "graphql-core ExecutionContext.collect_subfields": _has(ExecutionContext, "collect_subfields"),
    "graphql-core ExecutionContext.is_awaitable": _has(ExecutionContext, "is_awaitable"),
    "graphql-core ExecutionContext.middleware_manager": _sets(
        ExecutionContext.__init__, "middleware_manager"
    ),
    "starlette Starlette.build_middleware_stack": _has(Starlette, "build_middleware_stack"),
    "starlette Starlette.middleware_stack": _sets(Starlette.__init__, "middleware_stack"),
    "starlette Starlette.user_middleware": _sets(Starlette.__init__, "user_middleware"),
    "starlette Starlette.exception_handlers": _sets(Starlette.__init__, "exception_handlers"),
    "starlette Starlette.max_body_size": _sets(Starlette.__init__, "max_body_size"),
    "starlette Request._body (the body cache)": _sets(Request.body, "_body"),
    "starlette Response.raw_headers": _sets(Response.init_headers, "raw_headers"),
    "starlette Response.background": _sets(Response.__init__, "background"),
}


def missing_internals() -> list[str]:
    """The internals above that the installed versions lack (empty when all are there)."""
    return [name for name, check in CHECKS.items() if not _passes(check)]


def _passes(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except (AttributeError, AssertionError, KeyError, TypeError, OSError):
        return False
