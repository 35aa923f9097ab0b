"""Running an action under the audit trail: intent first, outcome after.

The API's admin mutations, their CLI twins and Dagster's champion moves all go through
:func:`audited`, so each writes the same two entries whoever started it.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gbrec_core.access.audit import AuditLog
from gbrec_core.access.audit_chain import audit_key
from gbrec_core.access.secret_keys import signing_key
from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings
from gbrec_core.store import connect_async
from gbrec_core.store.client import AsyncRedisClient

T = TypeVar("T")


def open_audit(settings: Settings, client: AsyncRedisClient) -> AuditLog:
    key = audit_key(signing_key(settings))
    return AuditLog(client, key=key, max_entries=settings.audit_max_entries)


def operator_id() -> str:
    """Who a CLI entry names: there is no API key, so the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


async def audited(
    audit: AuditLog,
    *,
    key_id: str,
    operation: str,
    arguments: dict[str, Any],
    action: Callable[[], Awaitable[T]],
    summary: Callable[[T], Any],
) -> T:
    """Write the intent, run ``action``, write its outcome (failures included)."""
    intent = await audit.intent(key_id=key_id, operation=operation, arguments=arguments)
    try:
        result = await action()
    except BaseException as e:
        failure = (
            {"error": e.code, "message": str(e)}
            if isinstance(e, GbrecError)
            else {"error": "INTERNAL_SERVER_ERROR"}
        )
        await audit.outcome(intent, key_id=key_id, operation=operation, result=failure, ok=False)
        raise
    done = summary(result)
    await audit.outcome(intent, key_id=key_id, operation=operation, result=done, ok=True)
    return result


def run_audited(
    settings: Settings,
    *,
    key_id: str,
    operation: str,
    arguments: dict[str, Any],
    action: Callable[[], T],
    summary: Callable[[T], Any],
) -> T:
    """:func:`audited` for synchronous callers (CLI, Dagster): ``action`` runs in a
    worker thread between the two entries."""
    return with_audit(
        settings,
        lambda audit: audited(
            audit,
            key_id=key_id,
            operation=operation,
            arguments=arguments,
            action=lambda: asyncio.to_thread(action),
            summary=summary,
        ),
    )


def record_event(
    settings: Settings, *, key_id: str, operation: str, arguments: Any, result: Any, ok: bool
) -> str:
    """One ``event`` entry from synchronous code."""
    return with_audit(
        settings,
        lambda audit: audit.write(
            key_id=key_id, operation=operation, arguments=arguments, result=result, ok=ok
        ),
    )


def with_audit(settings: Settings, work: Callable[[AuditLog], Awaitable[T]]) -> T:
    """Run ``work`` on an audit log over a client of its own (closed afterwards)."""

    async def run() -> T:
        client = connect_async(settings)
        try:
            return await work(open_audit(settings, client))
        finally:
            await client.aclose()

    return asyncio.run(run())
