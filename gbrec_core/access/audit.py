"""The audit trail: a hash-chained Redis stream of admin actions, key operations,
failed authentications and the delivery loop's decisions.

A stream (not a list) because entries get time-ordered ids that double as stable
pagination cursors and ``XADD MAXLEN ~`` caps memory without a sweeper. Every entry is
sealed into a chain (gbrec_core.access.audit_chain); appending reads the head record
and writes entry and head in one WATCH/MULTI transaction, so concurrent writers in
many processes still form one chain. Stream and head share a hash slot (Redis Cluster).

An admin action writes two entries: its *intent*, with every argument, before it runs
(no intent recorded, no action), and its *outcome* after, pointing at the intent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from redis.exceptions import WatchError

from gbrec_core.access.audit_chain import ChainReport, head_of, parse_head, seal, verify_chain
from gbrec_core.errors import InvalidInputError, UnavailableError
from gbrec_core.store.client import AsyncRedisClient
from gbrec_core.store.errors import async_store_call

STREAM = "gbrec:{audit}:log"
HEAD = "gbrec:{audit}:head"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    """One entry: who (key id), what, with which arguments, and the outcome.

    ``phase`` is ``intent`` (before an admin action), ``outcome`` (after it; ``ref`` is
    the intent's id) or ``event`` (a single fact: a key revoked, a failed login, a
    decision of the delivery loop)."""

    id: str
    key_id: str
    operation: str
    arguments: Any
    result: Any
    ok: bool
    at: datetime
    phase: str = "event"
    ref: str | None = None


@dataclass(frozen=True)
class AuditPage:
    records: list[AuditRecord]
    next_cursor: str | None


class AuditLog:
    def __init__(self, client: AsyncRedisClient, *, key: bytes, max_entries: int) -> None:
        self._client = client
        self._key = key
        self.max_entries = max_entries

    async def write(
        self, *, key_id: str, operation: str, arguments: Any, result: Any, ok: bool
    ) -> str:
        """Append one ``event`` entry; returns its id."""
        return await self._write("event", None, key_id, operation, arguments, result, ok)

    async def intent(self, *, key_id: str, operation: str, arguments: Any) -> str:
        """Record that ``operation`` is about to run; its id ties the outcome to it."""
        return await self._write("intent", None, key_id, operation, arguments, None, True)

    async def outcome(
        self, intent_id: str, *, key_id: str, operation: str, result: Any, ok: bool
    ) -> str:
        return await self._write("outcome", intent_id, key_id, operation, None, result, ok)

    async def page(self, *, first: int, after: str | None) -> AuditPage:
        """Up to ``first`` records older than cursor ``after`` (newest first)."""
        if not 1 <= first <= 500:
            raise InvalidInputError("first must be between 1 and 500")
        if after is not None and not _is_stream_id(after):
            raise InvalidInputError("after must be a cursor returned by auditLog")
        upper = f"({after}" if after else "+"
        rows = await self._read_back(upper, first + 1)
        records = [_record(entry_id, fields) for entry_id, fields in rows[:first]]
        next_cursor = records[-1].id if len(rows) > first else None
        return AuditPage(records=records, next_cursor=next_cursor)

    async def verify(self) -> ChainReport:
        """Check every entry's seal and link, and the head record."""
        entries = [entry async for entry in self._entries()]
        head = await self._head()
        return verify_chain(self._key, entries, head, cap=self.max_entries)

    async def _write(
        self,
        phase: str,
        ref: str | None,
        key_id: str,
        operation: str,
        arguments: Any,
        result: Any,
        ok: bool,
    ) -> str:
        body = {
            "phase": phase,
            "ref": ref or "",
            "key_id": key_id,
            "operation": operation,
            "arguments": json.dumps(arguments, default=str, sort_keys=True),
            "result": json.dumps(result, default=str, sort_keys=True),
            "ok": "1" if ok else "0",
            "at": datetime.now(UTC).isoformat(),
        }
        try:
            return await self._append(body)
        except UnavailableError as e:
            # An intent that cannot be written stops its action; an outcome is loud.
            log.error("audit write failed for %s %s by %s: %s", phase, operation, key_id, e)
            raise

    @async_store_call("audit log")
    async def _append(self, body: dict[str, str]) -> str:
        async with self._client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    return await self._append_once(pipe, body)
                except WatchError:  # another writer moved the head: seal again
                    continue

    async def _append_once(self, pipe: Any, body: dict[str, str]) -> str:
        await pipe.watch(HEAD)
        seq, prev = parse_head(await pipe.get(HEAD))
        fields = seal(self._key, body, seq=seq + 1, prev=prev)
        pipe.multi()
        pipe.xadd(STREAM, fields, maxlen=self.max_entries, approximate=True)
        pipe.set(HEAD, head_of(fields))
        entry_id, _ = await pipe.execute()
        return str(entry_id)

    @async_store_call("audit log")
    async def _read_back(self, upper: str, count: int) -> list[tuple[str, dict[str, str]]]:
        found = await self._client.xrevrange(STREAM, max=upper, min="-", count=count)
        # The client decodes responses, so ids and fields are str.
        return cast(list[tuple[str, dict[str, str]]], found or [])

    async def _entries(self, batch: int = 1000) -> AsyncIterator[tuple[str, dict[str, str]]]:
        lower = "-"
        while rows := await self._read_forward(lower, batch):
            for row in rows:
                yield row
            lower = f"({rows[-1][0]}"

    @async_store_call("audit log")
    async def _read_forward(self, lower: str, count: int) -> list[tuple[str, dict[str, str]]]:
        found = await self._client.xrange(STREAM, min=lower, max="+", count=count)
        return cast(list[tuple[str, dict[str, str]]], found or [])

    @async_store_call("audit log")
    async def _head(self) -> str | None:
        raw = await self._client.get(HEAD)
        return None if raw is None else str(raw)


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
        phase=fields.get("phase", "event"),
        ref=fields.get("ref") or None,
    )
