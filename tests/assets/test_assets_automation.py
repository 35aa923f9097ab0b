"""Automation conditions at simulated times: fresh -> nothing, weekly tick / stale -> retrain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange
from dagster._core.test_utils import freeze_time

from gbrec_assets.definitions import build_definitions
from gbrec_core.settings import Settings

ALS = dg.AssetKey("als_model")
T0 = datetime(2024, 1, 2, 12, 0, tzinfo=UTC)  # a Tuesday


def _materialize_all(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, at: datetime, cursor: object = None):
    return dg.evaluate_automation_conditions(
        defs=defs,
        instance=instance,
        evaluation_time=at,
        cursor=cursor,  # type: ignore[arg-type]
    )


def test_fresh_model_is_not_retrained(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    with freeze_time(T0):
        _materialize_all(defs, instance)
    first = _tick(defs, instance, T0)
    second = _tick(defs, instance, T0 + timedelta(days=1), first.cursor)
    assert second.get_num_requested(ALS) == 0


def test_weekly_tick_retrains(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    defs = build_definitions(Settings(home=tmp_path))
    with freeze_time(T0):
        _materialize_all(defs, instance)
    first = _tick(defs, instance, T0)
    monday = datetime(2024, 1, 8, 3, 30, tzinfo=UTC)  # just after "0 3 * * 1"
    result = _tick(defs, instance, monday, first.cursor)
    assert result.get_num_requested(ALS) == 1
    assert result.get_num_requested(dg.AssetKey("popularity_model")) == 1


def test_stale_model_is_retrained(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    # A yearly cron keeps the weekly trigger out of this test: only staleness can fire.
    defs = build_definitions(Settings(home=tmp_path, retrain_cron="0 3 1 7 *"))
    with freeze_time(T0):
        _materialize_all(defs, instance)
    first = _tick(defs, instance, T0)
    later = T0 + timedelta(days=8)
    # What the freshness daemon records once the 7-day fail window has passed.
    with freeze_time(later):
        instance._report_runless_asset_event(
            FreshnessStateChange(
                key=ALS,
                previous_state=FreshnessState.PASS,
                new_state=FreshnessState.FAIL,
                state_change_timestamp=later.timestamp(),
            )
        )
    quiet = dg.AssetKey("content_model")
    result = _tick(defs, instance, later, first.cursor)
    assert result.get_num_requested(ALS) == 1
    assert result.get_num_requested(quiet) == 0


def test_failed_smoke_check_launches_rollback(instance: dg.DagsterInstance) -> None:
    from gbrec_assets.sensors import SMOKE_CHECK, champion_rollback_sensor

    def report(passed: bool) -> None:
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=SMOKE_CHECK.asset_key, check_name=SMOKE_CHECK.name, passed=passed
            )
        )

    report(True)
    with dg.build_sensor_context(instance=instance) as ctx:
        assert not champion_rollback_sensor(ctx).run_requests
        cursor = ctx.cursor
    report(False)
    with dg.build_sensor_context(instance=instance, cursor=cursor) as ctx:
        result = champion_rollback_sensor(ctx)
    assert len(result.run_requests) == 1
    with dg.build_sensor_context(instance=instance, cursor=result.cursor) as ctx:
        assert not champion_rollback_sensor(ctx).run_requests  # one rollback per failure
