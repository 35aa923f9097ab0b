"""The request pipeline as one schema extension: limits, caches, error masking, metrics.

Strawberry builds a context manager for every hook of every extension on every request,
so six single-purpose extensions (token limit, validation rules, parser cache, validation
cache, error masking, metrics) cost more than the work they do on a cached query. This
one extension does all six with three hooks and no per-field hook. The caches live in a
:class:`Pipeline` built once per schema: LRU-bounded (``GBREC_GRAPHQL_CACHE_SIZE``), and
the validation cache is keyed by the rule tuple, which is therefore built once too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
)
from strawberry.extensions import SchemaExtension

from gbrec_core.settings import Settings
from gbrec_graphql import security
from gbrec_graphql.finish import finish_request
from gbrec_graphql.internals import graphql_schema, validate_document

Rules = tuple[type[ASTValidationRule], ...]


@dataclass(frozen=True)
class Pipeline:
    """Per-schema state shared by every request's :class:`RequestPipeline`."""

    rules: Rules
    max_tokens: int
    production: bool
    parse: Callable[..., DocumentNode]
    validate: Callable[[GraphQLSchema, DocumentNode, Rules], list[GraphQLError]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        size = settings.graphql_cache_size
        return cls(
            rules=tuple(security.validation_rules(settings)),
            max_tokens=settings.graphql_max_tokens,
            production=settings.env == "production",
            parse=lru_cache(maxsize=size)(parse),
            # Strawberry's validate_document adds its own rules (oneOf, Maybe) to ours.
            validate=lru_cache(maxsize=size)(validate_document),
        )

    def extension(self) -> SchemaExtension:
        return RequestPipeline(self)

    def check(self, schema: GraphQLSchema, query: str) -> DocumentNode | None:
        """``query`` parsed and validated exactly as a request's would be (same limits,
        same rules, same caches), or None when that would fail."""
        try:
            document = self.parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None
        errors = self.validate(schema, document, tuple(specified_rules) + self.rules)
        return None if errors else document


class RequestPipeline(SchemaExtension):
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.pipeline.max_tokens
        ctx.validation_rules = ctx.validation_rules + self.pipeline.rules
        started = time.perf_counter()
        yield
        result = ctx.result or ExecutionResult(None, None)
        finish_request(
            result,
            metrics=getattr(getattr(ctx.context, "services", None), "metrics", None),
            production=self.pipeline.production,
            query=ctx.query,
            document=ctx.graphql_document,
            operation_name=ctx.operation_name,
            started=started,
            failed=bool(ctx.pre_execution_errors),
            context=ctx.context,
        )

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.graphql_document = self.pipeline.parse(ctx.query, **ctx.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        ctx.pre_execution_errors = self.pipeline.validate(
            graphql_schema(ctx.schema), ctx.graphql_document, ctx.validation_rules
        )
        yield
