"""Erasing a user: every experiment, every raw-event log, the outage buffer, snapshots."""

from __future__ import annotations

import json

import pytest
import redis

from gbrec_core.experiments import (
    Event,
    EventType,
    ExperimentService,
    ExperimentSpec,
    ExposureRow,
    VariantSpec,
)
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.experiments.rawlog import ERASE_SLICE, GLOBAL_LOG, RawLogs, log_key
from gbrec_core.settings import Settings
from gbrec_core.store import ensure_server, stop_server

AB = (VariantSpec("control", "champion"), VariantSpec("treatment", "challenger"))


def _spec(exp_id: str) -> ExperimentSpec:
    return ExperimentSpec(id=exp_id, variants=AB, metrics=("satisfaction",), auto_stop=False)


def _traffic(service: ExperimentService, exp_id: str, users: range) -> None:
    service.record_exposures(exp_id, [ExposureRow(u, u % 2, 0.0, [u]) for u in users], "r1")
    events = [Event(u, EventType.SATISFACTION, exp_id, value=float(u % 5)) for u in users]
    service.record_events([*events, *(Event(u, EventType.IMPRESSION) for u in users)])


def _users(service: ExperimentService, exp_id: str) -> int:
    return sum(v.users for v in service.results(exp_id).variants)


def test_erasure_covers_every_experiment_and_log(service: ExperimentService) -> None:
    service.record_events([Event(5, EventType.CLICK, book_id=9)])  # nothing running yet
    for exp_id in ("e1", "e2"):
        service.create(_spec(exp_id))
        _traffic(service, exp_id, range(1, 21))
    before = {e: service.results(e) for e in ("e1", "e2")}
    done = erase_user(service, 5)
    # per experiment: 1 exposure, 1 satisfaction and 1 untagged impression (logged once
    # however many experiments run), plus the click in the global log
    assert (done.experiments, done.exposures, done.snapshots) == (2, 2, 2)
    assert done.raw_events == 2 * 3 + 1 and done.request_ids == {"r1"}
    logs = service.store.logs
    p = service.pseudonym(5)
    for key in (log_key("e1"), log_key("e2"), GLOBAL_LOG):
        assert p not in {e["user"] for e in logs.events(key)}
    for exp_id, res in before.items():
        assert _users(service, exp_id) == sum(v.users for v in res.variants) - 1
        assert service.history(exp_id)[-1].variants == service.results(exp_id).variants
    again = erase_user(service, 5)
    assert (again.experiments, again.raw_events) == (0, 0)


@pytest.mark.embedded_redis
def test_buffered_writes_are_erased_before_replay(exp_settings: Settings) -> None:
    from gbrec_core.store import connect

    service = ExperimentService(exp_settings, connect(exp_settings))
    try:
        service.create(_spec("buf"))
        service.assign("buf", 1)  # definition cached for the outage
        stop_server(exp_settings)
        _traffic(service, "buf", range(1, 11))
        assert len(service.buffer) == 30
        assert service.buffer.forget(service.pseudonym(3)) == 3  # exposure + 2 events
        assert len(service.buffer) == 27
        ensure_server(exp_settings)
        assert service.flush() == 27
        assert _users(service, "buf") == 9
        logged = service.store.logs.events(log_key("buf"))
        assert len(logged) == 27 and service.pseudonym(3) not in {e["user"] for e in logged}
    finally:
        stop_server(exp_settings)


def test_log_erasure_visits_every_batch_at_one_score(redis_conn: redis.Redis) -> None:
    """More batches than one slice share a score; some hold only the erased user, so
    they vanish mid-scan: nothing may be skipped."""
    logs = RawLogs(redis_conn, retention_ms=86_400_000)
    key = log_key("slices")
    members = {}
    for i in range(3 * ERASE_SLICE + 1):
        lines = [json.dumps({"user": "victim", "n": i}, separators=(",", ":"))]
        if i % 3:
            lines.append(json.dumps({"user": "other", "n": i}, separators=(",", ":")))
        members[f"{i:016x}\n" + "\n".join(lines)] = 1000.0
    redis_conn.zadd(key, members)
    removed = logs.erase(key, "victim")
    assert len(removed) == 3 * ERASE_SLICE + 1
    left = logs.events(key)
    assert len(left) == sum(1 for i in range(3 * ERASE_SLICE + 1) if i % 3)
    assert {e["user"] for e in left} == {"other"}
    assert {s for _, s in redis_conn.zrange(key, 0, -1, withscores=True)} == {1000.0}


@pytest.mark.embedded_redis
def test_another_process_replays_its_buffer_without_the_erased_user(
    exp_settings: Settings,
) -> None:
    from gbrec_core.store import connect

    api = ExperimentService(exp_settings, connect(exp_settings))  # buffers in an outage
    admin = ExperimentService(exp_settings, connect(exp_settings))  # erases afterwards
    try:
        api.create(_spec("other"))
        api.assign("other", 1)
        stop_server(exp_settings)
        _traffic(api, "other", range(1, 11))
        ensure_server(exp_settings)
        assert erase_user(admin, 4).buffered == 0  # not its buffer
        _traffic(api, "other", range(11, 13))  # replays first, then writes
        assert len(api.buffer) == 0 and _users(api, "other") == 11
        logged = {e["user"] for e in api.store.logs.events(log_key("other"))}
        assert api.pseudonym(4) not in logged and api.pseudonym(5) in logged
        _traffic(api, "other", range(4, 5))  # the user comes back later: counted again
        assert _users(api, "other") == 12
    finally:
        stop_server(exp_settings)
