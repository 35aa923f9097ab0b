"""Jobs: the retrain job (models and everything downstream) and the rollback job."""

import dagster as dg

from gbrec_assets.resources import RegistryResource

MODELS_GROUP = "models"

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.groups(MODELS_GROUP).downstream()
    - dg.AssetSelection.assets("vector_index"),
    description="Retrain every model family on the last validated split, evaluate, register.",
    tags={"gbrec/trigger": "retrain"},
)


@dg.op(description="Point the champion alias back at the previous champion.")
def rollback_champion(context: dg.OpExecutionContext, registry: RegistryResource) -> str:
    deployment = registry.registry().rollback()
    context.log.warning(
        f"rolled back champion v{deployment.previous_version} -> v{deployment.version}"
    )
    context.add_output_metadata(
        {"version": deployment.version, "previous_version": str(deployment.previous_version)}
    )
    return deployment.version


@dg.job(
    description="Roll the registry's champion back to the previous champion.",
    tags={"gbrec/trigger": "rollback"},
)
def rollback_job() -> None:
    rollback_champion()
