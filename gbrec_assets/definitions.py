"""The one Dagster ``Definitions`` of gbrec: ``gbrec_assets.definitions.defs``.

``build_definitions(settings)`` exists so tests, the CLI and benchmarks can build
the graph for explicit settings; ``defs`` is built from the ``GBREC_*`` environment
(reading settings is the only thing that happens at import).
"""

from __future__ import annotations

import dagster as dg

from gbrec_assets.assets.baseline import BASELINE_FAMILY, baseline_model
from gbrec_assets.assets.data import rating_splits, validated_ratings
from gbrec_assets.assets.evaluation import build_evaluation_asset
from gbrec_assets.assets.index import build_vector_index_asset, item_embeddings, milvus_collection
from gbrec_assets.assets.raw import raw_files
from gbrec_assets.assets.registry import registered_model
from gbrec_assets.assets.training import book_catalogue, build_model_assets
from gbrec_assets.checks import champion_smoke_check
from gbrec_assets.delivery import delivery_decision_sensor
from gbrec_assets.jobs import retention_job, retrain_job, rollback_job
from gbrec_assets.resources import build_resources
from gbrec_assets.schedules import build_retention_schedule, build_weekly_retrain_schedule
from gbrec_assets.sensors import (
    automation_sensor,
    champion_rollback_sensor,
    model_degradation_sensor,
    raw_data_sensor,
    run_failure_alert_sensor,
)
from gbrec_core.settings import Settings


def build_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """Every asset of the graph; ``milvus_collection`` only with GBREC_VECTOR_BACKEND=milvus."""
    models = build_model_assets(settings)
    families = [m.key.path[-1].removesuffix("_model") for m in models]
    assets = [
        raw_files,
        validated_ratings,
        rating_splits,
        book_catalogue,
        *models,
        build_evaluation_asset(families),
        registered_model,
        item_embeddings,
        build_vector_index_asset(settings),
    ]
    if BASELINE_FAMILY in families:
        assets.append(baseline_model)
    if settings.vector_backend == "milvus":
        assets.append(milvus_collection)
    return assets


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=build_assets(settings),
        asset_checks=[champion_smoke_check],
        jobs=[retrain_job, rollback_job, retention_job],
        schedules=[build_weekly_retrain_schedule(settings), build_retention_schedule()],
        sensors=[
            automation_sensor(),
            raw_data_sensor,
            model_degradation_sensor,
            champion_rollback_sensor,
            run_failure_alert_sensor,
            delivery_decision_sensor,
        ],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings())
