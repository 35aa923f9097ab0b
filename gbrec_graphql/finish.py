"""The end of every GraphQL request, on the compiled path and Strawberry's alike.

One function so that both paths log, code, mask and count errors identically:
unexpected errors are logged with their traceback (client mistakes at DEBUG), every
error gets its ``extensions.code`` and internal ones are masked
(:func:`gbrec_graphql.security.rewrite_error`), and the operation is counted and timed
by its root fields.
"""

from __future__ import annotations

import logging

from graphql import DocumentNode, ExecutionResult, GraphQLError

from gbrec_graphql import security
from gbrec_graphql.metrics import Metrics

log = logging.getLogger("gbrec_graphql.errors")


def finish_request(
    result: ExecutionResult,
    *,
    metrics: Metrics | None,
    production: bool,
    query: str | None,
    document: DocumentNode | None,
    operation_name: str | None,
    started: float,
    failed: bool = False,
) -> ExecutionResult:
    """``result`` with its errors logged and rewritten, the operation counted."""
    if result.errors:
        log_errors(result.errors)
        result.errors = [security.rewrite_error(e, production=production) for e in result.errors]
    if metrics is not None:
        failed = failed or bool(result.errors)
        metrics.observe_operation(query, document, operation_name, failed, started)
    return result


def log_errors(errors: list[GraphQLError]) -> None:
    """Client mistakes are routine; only errors we will mask deserve a traceback."""
    for error in errors:
        if security.is_expected(error):
            log.debug("client error: %s", error.message)
        else:
            log.error("internal error in %s", error.path, exc_info=error.original_error)
