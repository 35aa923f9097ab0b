"""Run the asset graph in-process: what ``gbrec materialize`` and the benchmark call.

One run materialises the selection (by default everything, every ``vector_index``
shard included through a single-run partition range) against the Dagster instance
in ``DAGSTER_HOME`` (``$GBREC_HOME/dagster``), so the runs show up in ``dagster dev``.
"""

import dataclasses
import logging
import os
import uuid
from collections.abc import Callable

import dagster as dg

from gbrec_assets.checks import champion_smoke_check
from gbrec_assets.definitions import build_assets
from gbrec_assets.resources import build_resources
from gbrec_core.layout import dagster_home
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)
JOB_NAME = "gbrec_materialize"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

EventCallback = Callable[[dg.EventLogEntry], None]


@dataclasses.dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    description: str


@dataclasses.dataclass(frozen=True)
class MaterializeOutcome:
    """How a run went: failed blocking checks and failed steps with their messages."""

    success: bool
    run_id: str
    materialized: list[str]
    failed_checks: list[FailedCheck]
    failed_steps: dict[str, str]


def open_instance(settings: Settings) -> dg.DagsterInstance:
    """The persistent instance of DAGSTER_HOME (set to ``$GBREC_HOME/dagster`` when unset)."""
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home(settings)))
    return dg.DagsterInstance.get()


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="Run events as records of the `dagster.run` Python logger.",
)
def python_logging_console(init_context: dg.InitLoggerContext) -> logging.Logger:
    """Replaces Dagster's coloured console logger, which writes with a handler of its own:
    these records reach the process's handler, in the format of ``GBREC_LOG_FORMAT``."""
    logger = logging.getLogger("dagster.run")
    logger.setLevel(str(init_context.logger_config["log_level"]).upper())
    return logger


def build_job(settings: Settings, selection: str | None) -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=build_assets(settings),
        asset_checks=[champion_smoke_check],
        jobs=[dg.define_asset_job(JOB_NAME, selection=selection or dg.AssetSelection.all())],
        resources=build_resources(settings),
        loggers={"console": python_logging_console},
    )
    return defs.resolve_job_def(JOB_NAME)


def partition_tags(job: dg.JobDefinition, settings: Settings) -> dict[str, str]:
    """Build every selected shard in one run (vector_index has a single-run backfill policy)."""
    keys = job.asset_layer.executable_asset_keys if job.asset_layer else set()
    if dg.AssetKey("vector_index") not in keys:
        return {}
    return {RANGE_START: "0", RANGE_END: str(settings.index_shards - 1)}


def materialize_graph(
    settings: Settings,
    instance: dg.DagsterInstance,
    selection: str | None = None,
    on_event: EventCallback | None = None,
    log_level: str = "INFO",
) -> MaterializeOutcome:
    """Materialise ``selection`` (Dagster selection syntax; all assets when None).

    ``log_level`` is the console logger's level; the event log keeps everything.
    """
    job = build_job(settings, selection)
    run_id = str(uuid.uuid4())  # Dagster's own run ids are uuid4 strings too
    if on_event is not None:
        instance.add_event_listener(run_id, on_event)
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_id=run_id,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={"gbrec/trigger": "cli", **partition_tags(job, settings)},
    )
    return summarize(result)


def summarize(result: dg.ExecuteInProcessResult) -> MaterializeOutcome:
    failed_checks = [
        FailedCheck(e.asset_key.to_user_string(), e.check_name, e.description or "")
        for e in result.get_asset_check_evaluations()
        if not e.passed
    ]
    failed_steps = {
        str(e.step_key): (
            e.step_failure_data.error.message.strip() if e.step_failure_data.error else "failed"
        )
        for e in result.all_events
        if e.is_step_failure
    }
    materialized = sorted(
        {
            e.asset_key.to_user_string()
            for e in result.all_events
            if e.is_step_materialization and e.asset_key
        }
    )
    return MaterializeOutcome(
        result.success, result.run_id, materialized, failed_checks, failed_steps
    )
