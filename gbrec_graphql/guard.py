"""Running mutations under a scope, a rate limit and (for admin) the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gbrec_core.access import Scope
from gbrec_core.errors import GbrecError
from gbrec_graphql.context import Context

T = TypeVar("T")
log = logging.getLogger(__name__)


async def admin_action(
    ctx: Context,
    *,
    operation: str,
    arguments: dict[str, Any],
    action: Callable[[], Awaitable[T]],
    summary: Callable[[T], Any],
) -> T:
    """Authenticate, authorise (admin), rate-limit, run and audit one admin mutation.

    Unauthenticated calls are not audited (there is no identity to record); anything
    after a key was verified is, including refusals and failures.
    """
    principal = await ctx.principal()
    services = ctx.services
    try:
        await ctx.require(Scope.ADMIN)
        await services.limiter.spend(principal.key_id, services.admin_bucket)
        result = await action()
    except GbrecError as e:
        outcome = {"error": e.code, "message": str(e)}
        await services.audit.write(
            key_id=principal.key_id,
            operation=operation,
            arguments=arguments,
            result=outcome,
            ok=False,
        )
        raise
    except Exception:
        await services.audit.write(
            key_id=principal.key_id,
            operation=operation,
            arguments=arguments,
            result={"error": "INTERNAL_SERVER_ERROR"},
            ok=False,
        )
        raise
    await services.audit.write(
        key_id=principal.key_id,
        operation=operation,
        arguments=arguments,
        result=summary(result),
        ok=True,
    )
    log.info("admin %s by %s succeeded", operation, principal.key_id)
    return result


async def events_action(ctx: Context, action: Callable[[], Awaitable[T]]) -> T:
    principal = await ctx.require(Scope.EVENTS)
    await ctx.services.limiter.spend(principal.key_id, ctx.services.events_bucket)
    return await action()
