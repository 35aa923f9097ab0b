"""``baseline_model``: the popularity model registered under the ``baseline`` alias.

An A/B test needs two versions and a fresh install has only the champion, so the
popularity family is also registered as ``baseline``, the natural control for
personalisation (``control: champion`` vs ``treatment: baseline``). It skips the
promotion gate and never moves ``champion``/``challenger`` or the rollback history
(:func:`gbrec_core.registry.register_baseline`). A new version is registered only when
the data fingerprint changed since the current baseline, so retrains on unchanged
data do not bloat the registry. It runs after ``registered_model`` so the champion
of a fresh install is v1 and the two never race for a version number.
"""

from typing import Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.evaluation import PLOT_COLUMN
from gbrec_assets.assets.registry import METRIC_COLUMNS, data_fingerprint
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, RegistryResource
from gbrec_assets.retries import NETWORK_RETRY
from gbrec_core.registry import BaselineRegistration

BASELINE_FAMILY = "popularity"


def baseline_metrics(model_evaluation: pd.DataFrame) -> tuple[dict[str, float], str | None]:
    """The baseline family's holdout metrics and recall plot from the evaluation table."""
    rows = model_evaluation[model_evaluation["model"] == BASELINE_FAMILY]
    if rows.empty:
        raise dg.Failure(f"model_evaluation has no {BASELINE_FAMILY!r} row")
    row = rows.iloc[0]
    plot = str(row[PLOT_COLUMN]) if PLOT_COLUMN in row and pd.notna(row[PLOT_COLUMN]) else None
    return {m: float(row[m]) for m in METRIC_COLUMNS if m in row}, plot


@dg.asset(
    name="baseline_model",
    group_name="registry",
    ins={"popularity_model": dg.AssetIn(), "model_evaluation": dg.AssetIn()},
    deps=["registered_model"],
    retry_policy=NETWORK_RETRY,
    automation_condition=downstream_condition(),
    description="The popularity model registered as the `baseline` alias (a second A/B "
    "arm); a new version only when the data changed; never gated, never champion.",
)
def baseline_model(
    context: dg.AssetExecutionContext,
    gbrec: GbrecSettingsResource,
    registry: RegistryResource,
    popularity_model: Any,
    model_evaluation: pd.DataFrame,
) -> dg.Output[BaselineRegistration]:
    from gbrec_core.registry import register_baseline

    settings = gbrec.settings()
    metrics, plot = baseline_metrics(model_evaluation)
    result = register_baseline(
        registry.registry(),
        popularity_model,
        metrics=metrics,
        params={"family": BASELINE_FAMILY, "eval_k": settings.eval_k, "role": "baseline"},
        fingerprint=data_fingerprint(context),
        lineage_tag=f"dagster:{context.run.run_id}",
        plots=[plot] if plot else None,
    )
    context.log.info(result.reason)
    return dg.Output(
        result,
        metadata={
            "version": result.version,
            "registered": result.registered,
            "previous_version": str(result.previous_version),
            "data_sha256": result.data_sha256,
            "reason": result.reason,
            "model_name": settings.model_name,
        },
    )
