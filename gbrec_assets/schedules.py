"""The explicit weekly retrain schedule (``GBREC_RETRAIN_CRON``, Mondays 03:00 UTC).

The automation conditions already retrain on the same tick; the schedule exists
for deployments that run the scheduler but keep the automation sensor off, and it
is STOPPED by default so the two never both fire.
"""

from __future__ import annotations

import dagster as dg

from gbrec_assets.jobs import retention_job, retrain_job
from gbrec_core.settings import Settings


def build_weekly_retrain_schedule(settings: Settings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="weekly_retrain_schedule",
        job=retrain_job,
        cron_schedule=settings.retrain_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Retrain, evaluate and register weekly even when the data is unchanged.",
    )


def build_retention_schedule() -> dg.ScheduleDefinition:
    """Daily, after the weekly retrain's hour: running by default, since nothing else
    prunes (keeping GBREC_KEEP_VERSIONS plus every aliased or experiment version)."""
    return dg.ScheduleDefinition(
        name="retention_schedule",
        job=retention_job,
        cron_schedule="0 5 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Prune registry versions beyond GBREC_KEEP_VERSIONS (daily, 05:00 UTC).",
    )
