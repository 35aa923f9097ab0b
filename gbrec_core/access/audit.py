"""The audit trail: one Redis stream entry per admin action, newest read first.

A stream (not a list) because entries get time-ordered ids that double as stable
pagination cursors and ``XADD MAXLEN ~`` caps memory without a sweeper.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis

from gbrec_core.errors import InvalidInputError, UnavailableError
from gbrec_core.store.errors import async_store_call

STREAM = "gbrec:audit"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    """One admin mutation: who (key id), what, with which arguments, and the outcome."""

    id: str
    key_id: str
    operation: str
    arguments: Any
    result: Any
    ok: bool
    at: datetime


@dataclass(frozen=True)
class AuditPage:
    records: list[AuditRecord]
    next_cursor: str | None


class AuditLog:
    def __init__(self, client: aioredis.Redis, *, max_entries: int) -> None:
        self._client = client
        self._max_entries = max_entries

    async def write(
        self, *, key_id: str, operation: str, arguments: Any, result: Any, ok: bool
    ) -> None:
        fields = {
            "key_id": key_id,
            "operation": operation,
            "arguments": json.dumps(arguments, default=str),
            "result": json.dumps(result, default=str),
            "ok": "1" if ok else "0",
            "at": datetime.now(UTC).isoformat(),
        }
        try:
            await self._append(fields)
        except UnavailableError as e:
            # The mutation already happened; losing its audit line must be loud.
            log.error("audit write failed for %s by %s: %s", operation, key_id, e)
            raise

    async def page(self, *, first: int, after: str | None) -> AuditPage:
        """Up to ``first`` records older than cursor ``after`` (newest first)."""
        if not 1 <= first <= 500:
            raise InvalidInputError("first must be between 1 and 500")
        if after is not None and not _is_stream_id(after):
            raise InvalidInputError("after must be a cursor returned by auditLog")
        upper = f"({after}" if after else "+"
        found = await self._read(upper, first + 1)
        # The client decodes responses, so ids and fields are str.
        rows = cast(list[tuple[str, dict[str, str]]], found or [])
        records = [_record(entry_id, fields) for entry_id, fields in rows[:first]]
        next_cursor = records[-1].id if len(rows) > first else None
        return AuditPage(records=records, next_cursor=next_cursor)

    @async_store_call("audit log")
    async def _append(self, fields: dict[str, str]) -> None:
        await self._client.xadd(STREAM, fields, maxlen=self._max_entries, approximate=True)  # type: ignore[arg-type]

    @async_store_call("audit log")
    async def _read(self, upper: str, count: int) -> object:
        return await self._client.xrevrange(STREAM, max=upper, min="-", count=count)


def _is_stream_id(value: str) -> bool:
    ms, _, seq = value.partition("-")
    return ms.isdigit() and (seq == "" or seq.isdigit()) and len(value) < 48


def _record(entry_id: str, fields: dict[str, str]) -> AuditRecord:
    return AuditRecord(
        id=entry_id,
        key_id=fields.get("key_id", ""),
        operation=fields.get("operation", ""),
        arguments=json.loads(fields.get("arguments", "null")),
        result=json.loads(fields.get("result", "null")),
        ok=fields.get("ok") == "1",
        at=datetime.fromisoformat(fields.get("at", "1970-01-01T00:00:00+00:00")),
    )
