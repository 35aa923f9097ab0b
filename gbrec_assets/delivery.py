"""``delivery_decision_sensor``: the API's delivery decisions, recorded in Dagster.

Each entry of the Redis stream ``gbrec:delivery:decisions`` (promotions, rollbacks,
stage advances, stops, SRM pauses) becomes an ``AssetObservation`` on
``registered_model``, so the asset's page shows why the champion changed. (Alerts for
decisions go out from the API process that made them.) The cursor is the last stream id recorded, so
each entry is observed once; a Redis outage fails the tick and nothing is skipped.
"""

import dagster as dg

from gbrec_assets.resources import RedisResource
from gbrec_core.delivery import DecisionEntry, read_decisions

REGISTERED_MODEL = dg.AssetKey("registered_model")
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


@dg.sensor(
    name="delivery_decision_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records each delivery decision of the API (gbrec:delivery:decisions) as an "
    "observation of registered_model.",
)
def delivery_decision_sensor(
    context: dg.SensorEvaluationContext, redis: RedisResource
) -> dg.SensorResult:
    entries = read_decisions(redis.client(), context.cursor or "0-0", count=BATCH)
    if not entries:
        return dg.SensorResult(skip_reason="no new delivery decision")
    return dg.SensorResult(
        asset_events=[decision_observation(e) for e in entries], cursor=entries[-1].id
    )
