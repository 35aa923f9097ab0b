"""Jobs: the retrain job (models and everything downstream) and the rollback job."""

import dagster as dg

from gbrec_assets.resources import GbrecSettingsResource, RegistryResource
from gbrec_core.registry.types import Deployment

MODELS_GROUP = "models"

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.groups(MODELS_GROUP).downstream()
    - dg.AssetSelection.assets("vector_index"),
    description="Retrain every model family on the last validated split, evaluate, register.",
    tags={"gbrec/trigger": "retrain"},
)


@dg.op(description="Point the champion alias back at the previous champion (audited).")
def rollback_champion(
    context: dg.OpExecutionContext, gbrec: GbrecSettingsResource, registry: RegistryResource
) -> str:
    from gbrec_core.access.audited import run_audited
    from gbrec_core.delivery.events import SYSTEM_KEY_ID

    deployment = run_audited(
        gbrec.settings(),
        key_id=SYSTEM_KEY_ID,
        operation="rollbackModel",
        arguments={"trigger": "dagster", "run": context.run_id},
        action=registry.registry().rollback,
        summary=Deployment.summary,
    )
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
