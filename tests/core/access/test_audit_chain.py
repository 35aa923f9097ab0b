"""The audit log's hash chain on a real Redis: intact, edited, removed, trimmed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from gbrec_core.access.audit import HEAD, STREAM, AuditLog
from gbrec_core.access.audit_chain import ChainReport
from gbrec_core.settings import Settings
from gbrec_core.store import connect_async

KEY = b"chain-test-key"


def with_log(settings: Settings, work: Callable[[AuditLog], Awaitable[Any]], cap: int = 100) -> Any:
    async def run() -> Any:
        client = connect_async(settings)
        try:
            return await work(AuditLog(client, key=KEY, max_entries=cap))
        finally:
            await client.aclose()

    return asyncio.run(run())


def fill(settings: Settings, n: int, cap: int = 100) -> list[str]:
    async def work(audit: AuditLog) -> list[str]:
        ids = []
        for i in range(n):
            intent = await audit.intent(key_id="k", operation="op", arguments={"i": i})
            ids.append(intent)
            ids.append(await audit.outcome(intent, key_id="k", operation="op", result=i, ok=True))
        return ids

    return list(with_log(settings, work, cap))


def verify(settings: Settings, cap: int = 100) -> ChainReport:
    return with_log(settings, lambda audit: audit.verify(), cap)


def test_intact_chain_verifies(settings: Settings, redis_client: redis.Redis) -> None:
    assert verify(settings).ok  # an empty log is intact
    fill(settings, 5)
    report = verify(settings)
    assert report.ok and (report.entries, report.first_seq, report.last_seq) == (10, 1, 10)


def test_concurrent_writers_form_one_chain(settings: Settings, redis_client: redis.Redis) -> None:
    async def work(audit: AuditLog) -> None:
        await asyncio.gather(
            *(
                audit.write(key_id="k", operation="op", arguments=i, result=None, ok=True)
                for i in range(40)
            )
        )

    with_log(settings, work)
    report = verify(settings)
    assert report.ok and report.entries == 40


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda r, ids: r.xadd(STREAM, {"x": "1"}, id="9999999999999-0"), "edited"),
        (lambda r, ids: r.xdel(STREAM, ids[3]), "were removed"),
        (lambda r, ids: r.xdel(STREAM, ids[-1]), "newest entries"),
        (lambda r, ids: r.xtrim(STREAM, maxlen=4, approximate=False), "oldest entries"),
        (lambda r, ids: r.delete(HEAD), "head record is missing"),
    ],
    ids=["forged", "middle-removed", "newest-removed", "trimmed", "head-deleted"],
)
def test_tampering_is_detected(
    settings: Settings, redis_client: redis.Redis, tamper: Callable[..., Any], problem: str
) -> None:
    ids = fill(settings, 4)
    tamper(redis_client, ids)
    report = verify(settings)
    assert not report.ok and any(problem in p for p in report.problems), report.problems


def test_an_edited_field_is_detected(settings: Settings, redis_client: redis.Redis) -> None:
    ids = fill(settings, 3)
    # Streams are append-only: an edit rewrites the stream with the same ids.
    entries = redis_client.xrange(STREAM)
    redis_client.delete(STREAM)
    for entry_id, fields in entries:
        edited = {**fields, "arguments": '{"i": 99}'} if entry_id == ids[2] else fields
        redis_client.xadd(STREAM, edited, id=entry_id)
    report = verify(settings)
    assert not report.ok and f"entry {ids[2]} (#3) was edited" in report.problems[0]


def test_retention_trimming_is_not_tampering(settings: Settings, redis_client: redis.Redis) -> None:
    fill(settings, 300, cap=100)  # XADD MAXLEN ~ 100 keeps at least 100
    report = verify(settings, cap=100)
    assert report.ok and report.first_seq > 1 and report.entries >= 100
