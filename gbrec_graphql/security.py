"""OWASP's GraphQL advice: validation rules (depth, aliases, introspection) and masking.

:mod:`gbrec_graphql.pipeline` applies them in one schema extension. Validation rules
are built once per schema: a limiter built per request would be a new rule class each
time, and the validation cache (keyed by the rule tuple) would then never hit.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule

from gbrec_core.errors import GbrecError
from gbrec_core.redaction import client_safe
from gbrec_core.settings import Settings
from gbrec_graphql.cost import cost_rule
from gbrec_graphql.internals import alias_rule, depth_rule

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Internal error."
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def validation_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.graphql_max_depth, None, None),
        alias_rule(settings.graphql_max_aliases),
        cost_rule(settings.graphql_max_cost),
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


def rewrite_error(error: GraphQLError, *, production: bool) -> GraphQLError:
    """The error as the client sees it: internal ones masked, every one with a code."""
    if not is_expected(error):
        return GraphQLError(
            MASKED_MESSAGE,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            None,
            {"code": INTERNAL},
        )
    original = error.original_error
    extensions: dict[str, Any] = dict(error.extensions or {})
    if isinstance(original, GbrecError):
        extensions["code"] = original.code
        retry = getattr(original, "retry_after", None)
        if retry is not None:
            extensions["retryAfter"] = round(float(retry), 3)
    else:
        extensions.setdefault("code", request_error_code(error))
    message = client_safe(error.message)
    message = _SUGGESTION.sub("", message) if production else message
    return GraphQLError(
        message, error.nodes, error.source, error.positions, error.path, None, extensions
    )


def ensure_coded(error: GraphQLError, *, production: bool) -> GraphQLError:
    """Last line of defence for errors that bypassed the pipeline's rewrite."""
    if error.extensions and "code" in error.extensions:
        return error
    return rewrite_error(error, production=production)
