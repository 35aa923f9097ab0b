"""Running mutations under a scope, a rate limit and (for admin) the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gbrec_core.access import Scope
from gbrec_core.access.audited import audited
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
    """Authenticate, authorise (admin), rate-limit, then run the action under the audit
    trail (intent with every argument before it, outcome after).

    Unauthenticated calls are audited as failed authentications (by the key verifier);
    a verified key without the admin scope is audited as a refused operation.
    """
    principal = await ctx.principal()
    services = ctx.services
    try:
        await ctx.require(Scope.ADMIN)
    except GbrecError as e:
        await services.audit.write(
            key_id=principal.key_id,
            operation=operation,
            arguments=arguments,
            result={"error": e.code},
            ok=False,
        )
        raise
    await services.limiter.spend(principal.key_id, services.admin_bucket)
    result = await audited(
        services.audit,
        key_id=principal.key_id,
        operation=operation,
        arguments=arguments,
        action=action,
        summary=summary,
    )
    log.info("admin %s by %s succeeded", operation, principal.key_id)
    return result


async def events_action(ctx: Context, action: Callable[[], Awaitable[T]]) -> T:
    principal = await ctx.require(Scope.EVENTS)
    await ctx.services.limiter.spend(principal.key_id, ctx.services.events_bucket)
    return await action()
