"""Jobs: the retrain job (models and everything downstream), the rollback job and the
retention job (``GBREC_KEEP_VERSIONS``)."""

from typing import Any

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


@dg.op(
    description="Prune registry versions beyond GBREC_KEEP_VERSIONS that carry no alias and "
    "serve no running experiment, with their artifacts, caches, indices and collections."
)
def prune_model_versions(
    context: dg.OpExecutionContext, gbrec: GbrecSettingsResource
) -> dict[str, Any]:
    from gbrec_core.registry.retention import prune_home

    # Redis down fails the run (alerted) rather than prune an arm's model blindly.
    report = prune_home(gbrec.settings())
    context.add_output_metadata(
        {
            "kept": ", ".join(report.kept),
            "pruned": ", ".join(p.version for p in report.pruned) or "nothing",
            "protected": ", ".join(report.protected) or "none",
            "logged_models": dg.MetadataValue.int(len(report.models)),
            "report": dg.MetadataValue.json(report.as_dict()),
        }
    )
    if report.failures:
        raise dg.Failure("retention left work undone", metadata={"failures": report.failures})
    return report.as_dict()


@dg.job(
    description="Prune old registry versions (GBREC_KEEP_VERSIONS) and what belongs to them.",
    tags={"gbrec/trigger": "retention"},
)
def retention_job() -> None:
    prune_model_versions()
