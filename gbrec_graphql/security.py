"""Schema extensions for OWASP's GraphQL advice: limits, caches, error masking.

Extensions are handed to Strawberry as factories so each request gets fresh
instances. Validation rules are built once per schema, though: a limiter built per
request would be a new rule class each time, and the validation cache (keyed by the
rule tuple) would then never hit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def validation_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.graphql_max_depth, None, None),
        alias_rule(settings.graphql_max_aliases),
    ]
    if settings.env == "production":
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def request_error_code(error: GraphQLError) -> str:
    """extensions.code of an error found before execution (parse, validation, variables)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def is_expected(error: GraphQLError) -> bool:
    """Request errors and GbrecErrors are the client's to see; anything else is ours."""
    original = error.original_error
    if isinstance(original, GbrecError):
        return True
    # Errors without a path arose before execution (parse, validation, variable
    # coercion): they describe the client's document, never our internals.
    return error.path is None and not _is_unexpected_exception(original)


def _is_unexpected_exception(original: BaseException | None) -> bool:
    return original is not None and not isinstance(
        original, ValueError | TypeError | ArithmeticError | GraphQLError
    )


class GbrecErrors(MaskErrors):
    """Masks internal errors; gives every shown error an ``extensions.code``."""

    def __init__(self, *, production: bool) -> None:
        super().__init__(
            should_mask_error=lambda e: not is_expected(e), error_message="Internal error."
        )
        self.production = production

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._rewrite(error) for error in errors]

    def _rewrite(self, error: GraphQLError) -> GraphQLError:
        if not is_expected(error):
            masked = self.anonymise_error(error)
            masked.extensions = {"code": INTERNAL}
            return masked
        original = error.original_error
        extensions: dict[str, Any] = dict(error.extensions or {})
        if isinstance(original, GbrecError):
            extensions["code"] = original.code
            retry = getattr(original, "retry_after", None)
            if retry is not None:
                extensions["retryAfter"] = round(float(retry), 3)
        else:
            extensions.setdefault("code", request_error_code(error))
        message = error.message
        if self.production:
            message = _SUGGESTION.sub("", message)
        return GraphQLError(
            message, error.nodes, error.source, error.positions, error.path, None, extensions
        )


def ensure_coded(error: GraphQLError, *, production: bool) -> GraphQLError:
    """Last line of defence for errors that bypassed :class:`GbrecErrors`."""
    if error.extensions and "code" in error.extensions:
        return error
    return GbrecErrors(production=production)._rewrite(error)


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The per-request extension factories, in order, for ``settings``."""
    rules = validation_rules(settings)
    cache_size = settings.graphql_cache_size
    max_tokens = settings.graphql_max_tokens
    production = settings.env == "production"
    return [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=cache_size),
        lambda: ValidationCache(maxsize=cache_size),
        lambda: GbrecErrors(production=production),
    ]
