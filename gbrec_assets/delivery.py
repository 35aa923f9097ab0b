"""``delivery_decision_sensor``: the API's delivery decisions, recorded in Dagster.

Each entry of the Redis stream ``gbrec:delivery:decisions`` (promotions, rollbacks,
stage advances, stops, SRM pauses) becomes an ``AssetObservation`` on
``registered_model``, so the asset's page shows why the champion changed. SRM and
rollback entries also go out as alerts. The cursor is the last stream id recorded, so
each entry is observed once; a Redis outage fails the tick and nothing is skipped.
"""

import dagster as dg

from gbrec_assets.resources import GbrecSettingsResource, RedisResource, RegistryResource
from gbrec_core.alerts import delivery_alert, send_alert
from gbrec_core.delivery import DecisionEntry, read_decisions
from gbrec_core.errors import NotFoundError, UnavailableError
from gbrec_core.registry import ModelRegistry

REGISTERED_MODEL = dg.AssetKey("registered_model")
ALERT_EVENTS = frozenset({"srm", "rollbackChallenger"})
BATCH = 100


def decision_observation(entry: DecisionEntry) -> dg.AssetObservation:
    fields = entry.fields
    return dg.AssetObservation(
        asset_key=REGISTERED_MODEL,
        description=f"{entry.event}: {fields.get('decision', '')}",
        metadata={
            "event": entry.event,
            "experiment_id": fields.get("experiment_id", ""),
            "champion_version": fields.get("champion_version", ""),
            "challenger_version": fields.get("challenger_version", ""),
            "decision": fields.get("decision", ""),
            "at": fields.get("at", ""),
            "details": dg.MetadataValue.json(entry.details),
            "stream_id": entry.id,
        },
    )


def training_run(registry: ModelRegistry, version: str | None) -> str | None:
    """The Dagster run that trained ``version``; None when unknown or unreadable (the
    alert then goes out without the link rather than not at all)."""
    if not version:
        return None
    try:
        return registry.dagster_run(version)
    except (NotFoundError, UnavailableError):
        return None


@dg.sensor(
    name="delivery_decision_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each delivery decision of the API (gbrec:delivery:decisions) as an "
    "observation of registered_model; alerts on SRM and rollbacks.",
)
def delivery_decision_sensor(
    context: dg.SensorEvaluationContext,
    gbrec: GbrecSettingsResource,
    redis: RedisResource,
    registry: RegistryResource,
) -> dg.SensorResult:
    entries = read_decisions(redis.client(), context.cursor or "0-0", count=BATCH)
    if not entries:
        return dg.SensorResult(skip_reason="no new delivery decision")
    settings = gbrec.settings()
    models = registry.registry()
    for entry in entries:
        if entry.event in ALERT_EVENTS:
            run = training_run(models, entry.fields.get("challenger_version"))
            send_alert(settings, delivery_alert(settings, entry.fields, dagster_run=run))
    return dg.SensorResult(
        asset_events=[decision_observation(e) for e in entries], cursor=entries[-1].id
    )
