"""The alerting sensors evaluated for real: run failure (blocking check) and delivery decisions."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from gbrec_assets.delivery import delivery_decision_sensor
from gbrec_assets.resources import GbrecSettingsResource, RedisResource
from gbrec_assets.sensors import run_failure_alert_sensor
from gbrec_core.delivery import DECISIONS_STREAM
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server

from ..alert_servers import webhook_server


@dg.asset(
    check_specs=[dg.AssetCheckSpec("rating_out_of_range", asset="ratings", blocking=True)],
    output_required=False,
)
def ratings() -> object:
    yield dg.AssetCheckResult(check_name="rating_out_of_range", passed=False, description="7")


@dg.asset(deps=[ratings])
def splits() -> None:
    return None


def _failed_run(instance: dg.DagsterInstance) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    job = dg.Definitions(
        assets=[ratings, splits], jobs=[dg.define_asset_job("check_job")]
    ).resolve_job_def("check_job")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    failure = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE]
    return run, failure[0]


def test_run_failure_sensor_alerts_naming_the_failed_check(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    run, failure = _failed_run(instance)
    with webhook_server() as (url, received):
        gbrec = GbrecSettingsResource(home=str(tmp_path / "home"))
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=failure,
            resources={"gbrec": gbrec},
        ).for_run_failure()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GBREC_ALERT_WEBHOOK_URL", url)
            run_failure_alert_sensor(context)
    assert len(received) == 1
    body = received[0]
    assert body["run_id"] == run.run_id and body["event"] == "runFailure"
    assert body["failedChecks"] == ["ratings:rating_out_of_range"]
    assert "ratings:rating_out_of_range" in str(body["title"])


def test_delivery_sensor_observes_decisions(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    settings = Settings(home=tmp_path / "home", synthetic_scale="tiny")
    client = connect(settings)
    try:
        common = {"experiment_id": "challenger-v3", "champion_version": "2"}
        entries = [
            {"event": "advanceExperiment", "decision": "stage 1", "details": "{}"},
            {
                "event": "rollbackChallenger",
                "decision": "rollback",
                "details": json.dumps({"metric": "ctr", "interval": [-0.3, -0.1]}),
            },
        ]
        for fields in entries:
            client.xadd(
                DECISIONS_STREAM,
                {**common, "challenger_version": "3", "at": "2026-12-04T14:00:00Z", **fields},
            )
        gbrec = GbrecSettingsResource.from_settings(settings)
        resources = {"redis": RedisResource(gbrec=gbrec)}
        with dg.build_sensor_context(instance=instance, resources=resources) as ctx:
            result = delivery_decision_sensor(ctx)
        assert isinstance(result, dg.SensorResult)
        with dg.build_sensor_context(
            instance=instance, resources=resources, cursor=result.cursor
        ) as ctx:
            again = delivery_decision_sensor(ctx)
    finally:
        client.close()
        stop_server(settings)
    events = result.asset_events
    assert [type(e) for e in events] == [dg.AssetObservation, dg.AssetObservation]
    assert all(e.asset_key == dg.AssetKey("registered_model") for e in events)
    meta = events[1].metadata
    assert meta["event"].value == "rollbackChallenger"
    assert meta["experiment_id"].value == "challenger-v3"
    assert meta["details"].value == {"metric": "ctr", "interval": [-0.3, -0.1]}
    assert not again.asset_events and again.skip_reason is not None
