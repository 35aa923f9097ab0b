"""The retention job: scheduled, prunes beyond GBREC_KEEP_VERSIONS, spares aliases and
the arms of running experiments, and reports what it pruned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dagster as dg

from gbrec_assets.definitions import build_definitions, defs
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.types import ExperimentSpec, VariantSpec
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server

from ..core.skewed_ratings import skewed_ratings


def test_retention_job_is_scheduled_daily() -> None:
    schedule = defs.resolve_schedule_def("retention_schedule")
    assert schedule.job_name == "retention_job" and schedule.cron_schedule == "0 5 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_retention_job_spares_aliases_and_experiment_arms(
    tmp_path: Path, instance: dg.DagsterInstance, tiny: Callable[..., Settings]
) -> None:
    settings = tiny(tmp_path / "home", keep_versions=1)
    registry = ModelRegistry(settings)
    fp = {"sha256": "r", "rows": 1, "users": 1, "books": 1}
    for seed in range(1, 5):
        model = make_recommender("popularity").fit(skewed_ratings(seed))
        registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp))
    registry.promote("1", force=True)
    client = connect(settings)
    try:
        spec = ExperimentSpec(
            id="arm-on-v2",
            variants=(VariantSpec("control", "champion"), VariantSpec("treatment", "2")),
        )
        ExperimentService(settings, client).create(spec)
        job = build_definitions(settings).resolve_job_def("retention_job")
        result = job.execute_in_process(instance=instance)
    finally:
        client.close()
        stop_server(settings)
    assert result.success
    assert [v.version for v in registry.versions()] == ["4", "2", "1"]
    output = next(e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT")
    metadata = output.step_output_data.metadata
    assert metadata["pruned"].value == "3" and metadata["protected"].value == "2"
