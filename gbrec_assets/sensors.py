"""Sensors: automation, new raw data, model degradation, post-deploy rollback, failure alerts."""

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from gbrec_assets.alerts import Alert, send_alert
from gbrec_assets.assets.raw import RAW_FILES, RAW_KEYS
from gbrec_assets.jobs import retrain_job, rollback_job
from gbrec_assets.resources import GbrecSettingsResource, RedisResource, RegistryResource

SMOKE_CHECK = dg.AssetCheckKey(dg.AssetKey("registered_model"), "champion_smoke_check")


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates every asset's automation condition; RUNNING as soon as the daemon runs."""
    return dg.AutomationConditionSensorDefinition(
        "gbrec_automation_sensor",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Retrain on the weekly tick, stale models or new data; run the rest eagerly.",
    )


def _stat_key(folder: Path) -> str:
    stats = []
    for file in RAW_FILES.values():
        path = folder / file
        stat = path.stat() if path.is_file() else None
        stats.append(f"{file}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{file}:-")
    return "|".join(stats)


@dg.sensor(
    name="raw_data_sensor",
    asset_selection=dg.AssetSelection.assets(*RAW_KEYS),
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-materialises the raw_* assets when a GoodBooks file changes on disk.",
)
def raw_data_sensor(
    context: dg.SensorEvaluationContext, gbrec: GbrecSettingsResource
) -> dg.SensorResult | dg.SkipReason:
    from gbrec_core.data import resolve_dataset

    folder = Path(resolve_dataset(gbrec.settings()))
    key = _stat_key(folder)
    if key == context.cursor:
        return dg.SkipReason("no GoodBooks file changed")
    # The raw assets hash the bytes themselves; their data version only changes (and
    # only then triggers retraining) when the content really differs.
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=key)], cursor=key)


def _latest_evaluation(context: dg.SensorEvaluationContext) -> tuple[int, dict[str, Any]] | None:
    record = context.instance.get_latest_materialization_event(dg.AssetKey("model_evaluation"))
    if record is None or record.asset_materialization is None:
        return None
    meta = {k: v.value for k, v in record.asset_materialization.metadata.items()}
    return int(record.timestamp * 1000), meta


@dg.sensor(
    name="model_degradation_sensor",
    job=retrain_job,
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a retrain when the champion's online click-through (GBREC_ONLINE_"
    "METRIC over the last GBREC_ONLINE_WINDOW_HOURS) dropped significantly, by more than "
    "GBREC_DEGRADATION_THRESHOLD, below its reference window.",
)
def model_degradation_sensor(
    context: dg.SensorEvaluationContext,
    gbrec: GbrecSettingsResource,
    registry: RegistryResource,
    redis: RedisResource,
) -> dg.RunRequest | dg.SkipReason:
    from gbrec_core.monitoring import assess, reference_alternatives

    settings = gbrec.settings()
    models = registry.registry()
    champion = models.champion_version()
    if champion is None:
        return dg.SkipReason("no champion yet")
    found = assess(
        redis.client(),
        settings,
        champion,
        reference_alternatives(models, champion),
        time.time(),
    )
    offline = _offline_context(context, settings.primary_metric)
    decision = found.decision
    reference = f"v{found.reference_version} ({found.reference_source})"
    message = f"champion v{champion} vs {reference}: {decision.reason}; {offline}"
    if not decision.degraded:
        return dg.SkipReason(message)
    context.log.info(message)
    run_key = f"degraded-v{champion}-{decision.metric}-period{found.period}"
    if context.cursor != run_key:  # one alert per degradation, not one per tick
        send_alert(
            settings,
            Alert(
                title=f"gbrec retrain requested: champion v{champion} degraded",
                body=message,
                fields={"event": "degradationRetrain", "championVersion": champion},
            ),
        )
        context.update_cursor(run_key)
    return dg.RunRequest(
        run_key=run_key,
        tags={
            "gbrec/trigger": "degradation",
            "gbrec/champion": champion,
            "gbrec/reference": reference,
            "gbrec/metric": decision.metric,
            "gbrec/recent_value": f"{decision.recent_value:.5f}",
            "gbrec/reference_value": f"{decision.reference_value:.5f}",
            "gbrec/drop": f"{decision.relative_drop:.4f}",
            "gbrec/p_value": f"{decision.p_value:.3g}",
            "gbrec/recent_requests": str(decision.recent.requests),
            "gbrec/reference_requests": str(decision.reference.requests),
            "gbrec/offline": offline,
        },
    )


def _offline_context(context: dg.SensorEvaluationContext, metric: str) -> str:
    """The latest offline evaluation, for the message (context only: offline NDCG and
    online click-through are on different scales and are never compared)."""
    found = _latest_evaluation(context)
    if found is None:
        return f"no offline {metric} evaluation yet"
    at_ms, meta = found
    value = meta.get("best_value")
    shown = f"{value:.4f}" if isinstance(value, int | float) else "?"
    when = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    best = meta.get("best_model", "?")
    return f"latest offline {meta.get('primary_metric', metric)} {shown} ({best}, {when})"


@dg.sensor(
    name="champion_rollback_sensor",
    job=rollback_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches rollback_job when the post-deploy champion_smoke_check fails.",
)
def champion_rollback_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    records = context.instance.event_log_storage.get_asset_check_execution_history(
        SMOKE_CHECK, limit=1
    )
    if not records:
        return dg.SensorResult(skip_reason="champion_smoke_check never ran")
    latest = records[0]
    seen = int(context.cursor or 0)
    status = latest.status.value
    if status == "PLANNED":  # running, or skipped with its run: look again next tick
        return dg.SensorResult(skip_reason="latest champion_smoke_check has no result")
    if latest.id <= seen or status != "FAILED":
        return dg.SensorResult(cursor=str(max(seen, latest.id)), skip_reason="smoke check ok")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"rollback-check-{latest.id}")],
        cursor=str(latest.id),
    )


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``asset:check`` of every blocking check that failed in the run, in event order."""
    records = instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    failed: list[str] = []
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        evaluation = event.asset_check_evaluation_data
        if evaluation.blocking and not evaluation.passed:
            failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return failed


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends the failure message, naming failed blocking checks, to "
    "GBREC_ALERT_WEBHOOK_URL and/or by e-mail.",
)
def run_failure_alert_sensor(
    context: dg.RunFailureSensorContext, gbrec: GbrecSettingsResource
) -> None:
    run = context.dagster_run
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    checks = failed_blocking_checks(context.instance, run.run_id)
    body = json.dumps(
        {"failed_steps": steps, "failed_checks": checks, "message": context.failure_event.message}
    )
    title = f"gbrec run {run.run_id[:8]} of {run.job_name} failed"
    if checks:
        title += f": blocking check(s) {', '.join(checks)} failed"
    # A channel that fails fails the tick, so the lost alert is visible in the UI.
    send_alert(
        gbrec.settings(),
        Alert(
            title=title,
            body=body,
            run_id=run.run_id,
            job=run.job_name,
            fields={"event": "runFailure", "failedChecks": checks, "failedSteps": steps},
        ),
        raise_errors=True,
    )
