"""The delivery loop's decisions on a real Redis and a real (sqlite) MLflow registry."""

from __future__ import annotations

import asyncio
import json
import threading

import redis

from gbrec_core.access import AuditLog
from gbrec_core.delivery.events import DECISIONS_STREAM, DeliveryEvent
from gbrec_core.delivery.loop import DeliveryLoop, record
from gbrec_core.experiments import ExperimentService, ExperimentSpec, ExperimentStatus
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect_async
from tests.core.delivery.conftest import make_loop
from tests.core.delivery.traffic import challenger_spec, serve


def _start(experiments: ExperimentService, settings: Settings) -> ExperimentSpec:
    spec = challenger_spec(settings)
    experiments.create(spec)
    return spec


def test_advances_when_the_stage_has_enough_users_per_arm(
    loop: DeliveryLoop, experiments: ExperimentService, loop_settings: Settings
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 60), (0.1, 0.1))
    assert loop.sweep() == []  # fewer than 40 users per arm so far
    serve(experiments, spec.id, range(60, 400), (0.1, 0.1), seed=1)
    [event] = loop.sweep()
    assert event.event == "advanceExperiment"
    assert event.details["stage"] == 0
    assert min(event.details["stage_users"].values()) >= 40
    exp = experiments.get(spec.id)
    assert exp.stage == 1 and exp.status is ExperimentStatus.RUNNING
    # The new stage counts its own users only: nothing more to decide yet.
    assert experiments.stage_start_users(exp) == list(event.details["users"].values())
    assert loop.sweep() == []


def test_promotion_moves_champion_and_removes_challenger(
    loop: DeliveryLoop,
    experiments: ExperimentService,
    registry: ModelRegistry,
    loop_settings: Settings,
    rconn: redis.Redis,
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 300), (0.08, 0.3))
    assert [e.event for e in loop.sweep()] == ["advanceExperiment"]
    serve(experiments, spec.id, range(300, 1500), (0.08, 0.3), seed=2)
    [event] = loop.sweep()
    assert event.event == "promoteChallenger", event
    assert (event.champion_version, event.challenger_version) == ("1", "2")
    assert event.interval[0] is not None and event.interval[0] > 0
    assert event.dagster_run_id == "r-42"
    exp = experiments.get(spec.id)
    assert exp.status is ExperimentStatus.CONCLUDED and exp.winner == "challenger"
    assert registry.champion_version() == "2"
    assert registry.alias_version("challenger") is None
    [(_, fields)] = rconn.xrange(DECISIONS_STREAM)[-1:]
    assert fields["event"] == "promoteChallenger"
    assert json.loads(fields["details"])["ci_low"] > 0


def test_rollback_keeps_champion(
    loop: DeliveryLoop,
    experiments: ExperimentService,
    registry: ModelRegistry,
    loop_settings: Settings,
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 600), (0.3, 0.03))
    [event] = loop.sweep()
    assert event.event == "rollbackChallenger"
    assert event.metric == "ctr" and event.interval[1] is not None and event.interval[1] < 0
    exp = experiments.get(spec.id)
    assert exp.status is ExperimentStatus.ROLLED_BACK and exp.winner == "champion"
    assert registry.champion_version() == "1"
    assert registry.alias_version("challenger") is None
    assert loop.sweep() == []


def test_sample_ratio_mismatch_pauses_once_without_rollback(
    loop: DeliveryLoop, experiments: ExperimentService, loop_settings: Settings
) -> None:
    from gbrec_core.experiments import ExposureRow

    spec = _start(experiments, loop_settings)
    rows = [ExposureRow(u, 0 if u % 10 else 1, 0.0, [1]) for u in range(1, 800)]
    experiments.record_exposures(spec.id, rows)
    [event] = loop.sweep()
    assert event.event == "srmPause" and not event.audited
    assert loop.sweep() == []  # recorded once
    exp = experiments.get(spec.id)
    assert exp.status is ExperimentStatus.RUNNING and exp.stage == 0


def test_undecided_after_max_days_stops(
    experiments: ExperimentService,
    registry: ModelRegistry,
    loop_settings: Settings,
    rconn: redis.Redis,
) -> None:
    settings = loop_settings.model_copy(update={"delivery_max_days": 1e-9})
    loop = make_loop(settings, experiments, registry, rconn)
    spec = _start(experiments, loop_settings)
    [event] = loop.sweep()
    assert event.event == "stopExperiment"
    assert experiments.get(spec.id).status is ExperimentStatus.STOPPED
    assert registry.champion_version() == "1"


def test_ordinary_experiments_are_left_alone(
    loop: DeliveryLoop, experiments: ExperimentService, loop_settings: Settings
) -> None:
    from dataclasses import replace

    spec = replace(challenger_spec(loop_settings), id="plain", champion_challenger=False)
    experiments.create(spec)
    serve(experiments, spec.id, range(1, 400), (0.1, 0.1))
    assert loop.sweep() == []
    assert experiments.get("plain").stage == 0


def test_results_do_not_auto_stop_champion_challenger(
    experiments: ExperimentService, loop_settings: Settings
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 600), (0.3, 0.03))
    experiments.results(spec.id)
    assert experiments.get(spec.id).status is ExperimentStatus.RUNNING


def _race(loops: list[DeliveryLoop]) -> list[DeliveryEvent]:
    barrier = threading.Barrier(len(loops))
    found: list[DeliveryEvent] = []

    def run(loop: DeliveryLoop) -> None:
        barrier.wait()
        found.extend(loop.sweep())

    threads = [threading.Thread(target=run, args=(lp,)) for lp in loops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found


def test_two_processes_one_lease_decide_once(
    experiments: ExperimentService,
    registry: ModelRegistry,
    loop_settings: Settings,
    rconn: redis.Redis,
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 600), (0.3, 0.03))
    loops = [
        make_loop(loop_settings, ExperimentService(loop_settings, rconn), registry, rconn, 30)
        for _ in range(2)
    ]
    assert [e.event for e in _race(loops)] == ["rollbackChallenger"]


def test_compare_and_set_decides_once_without_the_lease(
    experiments: ExperimentService,
    registry: ModelRegistry,
    loop_settings: Settings,
    rconn: redis.Redis,
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 300), (0.1, 0.1))
    loops = [
        make_loop(loop_settings, ExperimentService(loop_settings, rconn), registry, rconn)
        for _ in range(4)
    ]
    assert [e.event for e in _race(loops)] == ["advanceExperiment"]
    assert experiments.get(spec.id).stage == 1


def test_record_audits_as_system_and_notifies(
    loop: DeliveryLoop, experiments: ExperimentService, loop_settings: Settings
) -> None:
    spec = _start(experiments, loop_settings)
    serve(experiments, spec.id, range(1, 600), (0.3, 0.03))
    [event] = loop.sweep()
    notified: list[DeliveryEvent] = []

    async def go() -> None:
        client = connect_async(loop_settings)
        audit = AuditLog(client, key=b"test", max_entries=100)
        await record(event, audit, notified.append)
        page = await audit.page(first=5, after=None)
        await client.aclose()
        [entry] = page.records
        assert (entry.key_id, entry.operation, entry.ok) == ("system", "rollbackChallenger", True)
        assert entry.arguments == {
            "experimentId": spec.id,
            "championVersion": "1",
            "challengerVersion": "2",
        }
        assert entry.result["metric"] == "ctr" and entry.result["ci_high"] < 0
        assert set(entry.result["users"]) == {"champion", "challenger"}

    asyncio.run(go())
    assert notified == [event]
    assert event.payload()["experimentId"] == spec.id
