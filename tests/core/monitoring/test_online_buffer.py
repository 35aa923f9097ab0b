"""The served-response buffer: bounded, ordered, and surviving a Redis outage."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gbrec_core.errors import StoreDownError
from gbrec_core.monitoring import OnlineMonitor, OnlineStore
from gbrec_core.settings import Settings
from gbrec_core.store import ensure_server, stop_server

from .conftest import T0, VERSION


def dead_monitor(tmp_path: Path, capacity: int) -> OnlineMonitor:
    client = redis.Redis(
        unix_socket_path=str(tmp_path / "nobody.sock"), retry=Retry(NoBackoff(), 0)
    )
    store = OnlineStore(client, "m", ttl_seconds=60, retention_seconds=86_400)
    return OnlineMonitor(store, capacity=capacity)


def buffered_ids(monitor: OnlineMonitor) -> list[str]:
    return [row[0] for row in monitor._buffer]


def test_the_buffer_drops_the_oldest_when_full(tmp_path: Path) -> None:
    monitor = dead_monitor(tmp_path, capacity=10)
    for i in range(25):
        monitor.served(f"r{i}", VERSION, [1, 2])
    assert len(monitor) == 10
    assert buffered_ids(monitor) == [f"r{i}" for i in range(15, 25)]
    assert monitor.stats()["dropped"] == 15


def test_a_failed_flush_keeps_the_batch_in_order(tmp_path: Path) -> None:
    monitor = dead_monitor(tmp_path, capacity=10)
    for i in range(8):
        monitor.served(f"r{i}", VERSION, [1])
    with pytest.raises(StoreDownError):
        monitor.flush()
    assert buffered_ids(monitor) == [f"r{i}" for i in range(8)]
    for i in range(8, 12):  # still bounded: the oldest go first
        monitor.served(f"r{i}", VERSION, [1])
    assert buffered_ids(monitor) == [f"r{i}" for i in range(2, 12)]
    stats = monitor.stats()
    assert stats["flush_errors"] == 1 and stats["dropped"] == 2 and stats["buffered"] == 10


@pytest.mark.embedded_redis
def test_the_buffer_is_written_once_redis_is_back(
    settings: Settings, redis_client: Any, monitor: OnlineMonitor
) -> None:
    stop_server(settings)
    for i in range(30):
        monitor.served_at(f"o{i}", VERSION, [1, 2, 3], T0)
    with pytest.raises(StoreDownError):
        monitor.flush()
    assert len(monitor) == 30
    ensure_server(settings)
    assert monitor.flush() == 30
    assert len(monitor) == 0 and monitor.stats()["recorded"] == 30


def test_the_background_task_flushes_and_never_raises(
    tmp_path: Path, monitor: OnlineMonitor
) -> None:
    dead = dead_monitor(tmp_path, capacity=5)

    async def scenario() -> None:
        tasks = [asyncio.create_task(m.run(interval=0.05)) for m in (monitor, dead)]
        for i in range(20):
            monitor.served(f"bg{i}", VERSION, [1])
            dead.served(f"bg{i}", VERSION, [1])
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert all(not t.done() for t in tasks)  # a dead Redis did not end its task
        for t in tasks:
            t.cancel()
        await monitor.close()
        await dead.close(timeout=1.0)

    asyncio.run(scenario())
    assert monitor.stats()["recorded"] == 20 and len(monitor) == 0
    assert len(dead) == 5 and dead.stats()["dropped"] == 15
    assert dead.stats()["flush_errors"] >= 1
