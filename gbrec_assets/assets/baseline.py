"""``baseline_model``: the popularity model registered under the ``baseline`` alias.

An A/B test needs two versions and a fresh install has only the champion, so the
popularity family's logged model (logged by ``model_evaluation``, like every family)
is also registered as ``baseline``, the natural control for
personalisation (``control: champion`` vs ``treatment: baseline``). It skips the
promotion gate and never moves ``champion``/``challenger`` or the rollback history
(:func:`gbrec_core.registry.register_baseline`). A new version is registered only when
the data fingerprint changed since the current baseline, so retrains on unchanged
data do not bloat the registry. It runs after ``registered_model`` so the champion
of a fresh install is v1 and the two never race for a version number.
"""

import dagster as dg
import pandas as pd

from gbrec_assets.assets.registry import logged_run
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, RegistryResource
from gbrec_assets.retries import NETWORK_RETRY
from gbrec_core.registry import BaselineRegistration

BASELINE_FAMILY = "popularity"


@dg.asset(
    name="baseline_model",
    group_name="registry",
    ins={"model_evaluation": dg.AssetIn()},
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
    model_evaluation: pd.DataFrame,
) -> dg.Output[BaselineRegistration]:
    from gbrec_core.registry import register_baseline

    settings = gbrec.settings()
    run_id, model_id = logged_run(model_evaluation, BASELINE_FAMILY)
    result = register_baseline(registry.registry(), run_id)
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
            "mlflow_run_id": run_id,
            "logged_model_id": model_id,
        },
    )
