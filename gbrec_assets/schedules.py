"""The explicit weekly retrain schedule (``GBREC_RETRAIN_CRON``, Mondays 03:00 UTC).

The automation conditions already retrain on the same tick; the schedule exists
for deployments that run the scheduler but keep the automation sensor off, and it
is STOPPED by default so the two never both fire.
"""

from __future__ import annotations

import dagster as dg

from gbrec_assets.jobs import retrain_job
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
