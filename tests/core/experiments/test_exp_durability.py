"""Persistence across Redis restarts, crash mid-stream without silent loss, retention."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gbrec_core.errors import UnavailableError
from gbrec_core.experiments import (
    Event,
    EventType,
    ExperimentService,
    ExperimentSpec,
    ExposureRow,
    VariantSpec,
)
from gbrec_core.experiments.rawlog import log_key
from gbrec_core.settings import Settings
from gbrec_core.store import connect, ensure_server, server_pid, stop_server

AB = (VariantSpec("control", "champion"), VariantSpec("treatment", "challenger"))
SPEC = ExperimentSpec(id="dur", variants=AB, metrics=("satisfaction", "ctr"), auto_stop=False)


def _events(users: range, value: float) -> list[Event]:
    return [Event(u, EventType.SATISFACTION, "dur", value=value + u % 3) for u in users] + [
        Event(u, EventType.IMPRESSION, "dur") for u in users
    ]


def _populate(service: ExperimentService, users: range) -> None:
    service.record_exposures("dur", [ExposureRow(u, u % 2, 0.0, [1, 2]) for u in users])
    service.record_events(_events(users, 2.0))


@pytest.mark.embedded_redis
def test_restart_reads_back_everything(exp_settings: Settings, service: ExperimentService) -> None:
    service.create(SPEC)
    service.create(ExperimentSpec(id="other", variants=AB))
    _populate(service, range(1, 301))
    before = service.results("dur")
    logged = service.store.logs.events(log_key("dur"))
    assert len(logged) == 900  # 300 exposures, 600 events
    assert stop_server(exp_settings)

    fresh = ExperimentService(exp_settings, connect(exp_settings))  # new server process
    assert [e.id for e in fresh.find()] == ["dur", "other"]
    assert fresh.get("dur").spec == SPEC
    after = fresh.results("dur")
    assert after.variants == before.variants and after.metrics == before.metrics
    assert fresh.history("dur")[0].metrics == before.metrics
    assert fresh.store.logs.events(log_key("dur")) == logged


def _kill(settings: Settings) -> None:
    pid = server_pid(settings)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server_pid(settings) == pid and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.embedded_redis
@pytest.mark.slow
def test_crash_mid_stream_buffers_then_flushes(
    exp_settings: Settings, service: ExperimentService
) -> None:
    service.create(SPEC)
    _populate(service, range(1, 201))
    time.sleep(1.3)  # past one appendfsync-everysec tick: acknowledged writes are on disk
    _kill(exp_settings)

    late_exposures = service.record_exposures(
        "dur", [ExposureRow(u, u % 2, 0.0, [3]) for u in range(201, 301)]
    )
    late = service.record_events(_events(range(1, 301), 2.0))
    assert late_exposures.buffered == 100 and late.buffered == 600 and late.accepted == 600
    assert len(service.buffer) == 700
    with pytest.raises(UnavailableError):
        service.flush()  # still down: an explicit error, and the buffer is kept
    assert len(service.buffer) == 700

    ensure_server(exp_settings)  # restart: reloads the AOF
    assert service.flush() == 700 and len(service.buffer) == 0
    res = service.results("dur")
    assert sum(v.users for v in res.variants) == 300
    assert sum(v.exposures for v in res.variants) == 300
    sat = [m for m in res.metrics if m.metric == "satisfaction"]
    assert sum(m.users for m in sat) == 300


@pytest.mark.embedded_redis
def test_full_buffer_refuses_instead_of_dropping(exp_settings: Settings) -> None:
    small = exp_settings.model_copy(update={"event_buffer_size": 10})
    service = ExperimentService(small, connect(small))
    try:
        service.create(SPEC)
        service.assign("dur", 1)  # definition cached for the outage
        stop_server(small)
        assert service.record_events(_events(range(1, 5), 1.0)).buffered == 8
        with pytest.raises(UnavailableError, match="buffer is full"):
            service.record_events(_events(range(5, 7), 1.0))
        assert len(service.buffer) == 8  # the refused batch was not partially kept
        a = service.assign("dur", 42)  # assignment is pure hashing: still works
        assert a is not None and a.in_experiment
        ensure_server(small)
        assert service.flush() == 8
    finally:
        stop_server(small)  # this test starts its own server (no redis_conn fixture)


def test_route_falls_back_when_definition_unreachable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dead = redis.Redis(
        unix_socket_path=str(tmp_path / "missing.sock"),
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
    )
    service = ExperimentService(Settings(home=tmp_path / "h"), dead)
    route = service.route("anything", 1)
    assert route.fallback and route.assignment is None
    with pytest.raises(UnavailableError):
        service.assign("anything", 1)


def test_retention_trims_old_raw_events(service: ExperimentService) -> None:
    r = service.store.r
    old_ms = int(time.time() * 1000) - 40 * 86_400_000  # default retention is 30 days
    for i in range(5):
        r.zadd(log_key("dur"), {f"old{i}\n{{}}": old_ms + i})
    service.create(SPEC)
    _populate(service, range(1, 11))
    service.trim_events()
    scores = [s for _, s in r.zrange(log_key("dur"), 0, -1, withscores=True)]
    assert len(scores) == 2 and min(scores) > old_ms + 10  # the two batches just written
    assert len(service.store.logs.events(log_key("dur"))) == 30
