"""The end of every GraphQL request, on the compiled path and Strawberry's alike.

One function so that both paths log, code, mask and count errors identically:
unexpected errors are logged with their traceback (client mistakes at DEBUG), every
error gets its ``extensions.code`` and internal ones are masked
(:func:`gbrec_graphql.security.rewrite_error`), and the operation is counted and timed
by its root fields.

Each request is also one INFO line on the ``gbrec.requests`` logger (request id, key id,
never the key, operation, latency, model version). The fields are gathered only when
INFO is enabled for it, so ``gbrec serve --log-level warning`` costs one level check.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from graphql import DocumentNode, ExecutionResult, GraphQLError

from gbrec_core.serving.request_ids import new_request_id
from gbrec_graphql import security
from gbrec_graphql.metrics import Metrics, operation_label

if TYPE_CHECKING:
    from gbrec_graphql.context import Context

log = logging.getLogger("gbrec_graphql.errors")
requests_log = logging.getLogger("gbrec.requests")


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
    context: Context | None = None,
) -> ExecutionResult:
    """``result`` with its errors logged and rewritten, the operation counted and logged."""
    if result.errors:
        log_errors(result.errors)
        result.errors = [security.rewrite_error(e, production=production) for e in result.errors]
    failed = failed or bool(result.errors)
    label = None
    if metrics is not None:
        label = metrics.observe_operation(query, document, operation_name, failed, started)
    if requests_log.isEnabledFor(logging.INFO):
        label = label or operation_label(document, operation_name)
        log_request(label, failed, time.perf_counter() - started, context)
    return result


def log_request(operation: str, failed: bool, seconds: float, context: Context | None) -> None:
    """The request's log line; the request id is the response's ``requestId`` when the
    operation served recommendations, a fresh one otherwise."""
    request_id = (context and context.request_id) or new_request_id()
    key_id = context.key_id if context is not None else None
    version = context.model_version if context is not None else None
    latency_ms = round(seconds * 1000, 3)
    requests_log.info(
        "%s %s %.1f ms key=%s model=%s request=%s",
        operation,
        "error" if failed else "ok",
        latency_ms,
        key_id or "-",
        version or "-",
        request_id,
        extra={
            "request_id": request_id,
            "key_id": key_id,
            "operation": operation,
            "outcome": "error" if failed else "ok",
            "latency_ms": latency_ms,
            "model_version": version,
        },
    )


def log_errors(errors: list[GraphQLError]) -> None:
    """Client mistakes are routine; only errors we will mask deserve a traceback."""
    for error in errors:
        if security.is_expected(error):
            log.debug("client error: %s", error.message)
        else:
            log.error("internal error in %s", error.path, exc_info=error.original_error)
