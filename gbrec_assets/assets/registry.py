"""``registered_model``: the best family of the evaluation, registered and delivered.

The family with the best primary metric (``GBREC_PRIMARY_METRIC`` at
``GBREC_EVAL_K``) on the holdout was logged by ``model_evaluation`` (its run and
LoggedModel ids are in the table); that logged model is registered as a new version of
``GBREC_MODEL_NAME`` (linked to it and, by tag, to the evaluation report's run) and
handed to :func:`gbrec_core.delivery.start_delivery`:
with ``GBREC_DELIVERY=gate`` the promotion gate makes it ``champion`` at once; with
``experiment`` (the default) the first version becomes champion and a later
gate-passing one becomes ``challenger`` with a running ``challenger-v<N>`` A/B
experiment. Every outcome materialises the asset; the reason is in the metadata.

The evaluation's case for the choice (:func:`selection_tags`: the chosen family's
paired test against the runner-up, and against popularity, on per-user NDCG@k) is
the decision record's evidence: tags ``gbrec.selection*`` on the registered version,
appended to the delivery reason (so the audit entry holds it) and in the metadata.
"""

import dataclasses

import dagster as dg
import pandas as pd

from gbrec_assets.assets.evaluation import MODEL_ID_COLUMN, RUN_COLUMN
from gbrec_assets.automation import downstream_condition
from gbrec_assets.resources import GbrecSettingsResource, RedisResource, RegistryResource
from gbrec_core.delivery import DeliveryOutcome
from gbrec_core.redaction import redact
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings

#: Registry version tag holding the evaluation's case for the chosen family.
SELECTION_TAG = "gbrec.selection"


@dataclasses.dataclass(frozen=True)
class RegisteredModel:
    """What ``registered_model`` materialised: the version and the gate's verdict."""

    version: str
    family: str
    run_id: str
    champion: bool
    reason: str
    champion_version: str | None
    mode: str = "gate"
    experiment_id: str | None = None
    selection: str = ""
    model_id: str | None = None


def run_link(tracking_uri: str, experiment_id: str, run_id: str) -> dg.MetadataValue:
    """A clickable link for an MLflow server; the store and run path otherwise."""
    path = f"#/experiments/{experiment_id}/runs/{run_id}"
    if tracking_uri.startswith(("http://", "https://")):
        return dg.MetadataValue.url(f"{redact(tracking_uri).rstrip('/')}/{path}")
    return dg.MetadataValue.text(f"{redact(tracking_uri)} {path} (open with `mlflow ui`)")


def selection_tags(table: pd.DataFrame, settings: Settings) -> dict[str, str]:
    """The evaluation's case for the chosen family (row 0 of ``model_evaluation``), as
    registry version tags: the sentence, the runner-up, the paired p-values."""
    from gbrec_core.evaluation import paired_metric
    from gbrec_core.evaluation.significance import popularity_row, selection_record

    metric = paired_metric(settings.primary_metric)
    users = int(table["users"].iloc[0]) if "users" in table else 0
    tags = {SELECTION_TAG: selection_record(table, metric, settings.eval_k, users)}
    tags[f"{SELECTION_TAG}.metric"] = f"{metric}@{settings.eval_k}"
    if len(table) > 1 and "p_value" in table:
        runner = table.iloc[1]
        tags[f"{SELECTION_TAG}.runner_up"] = str(runner["model"])
        tags[f"{SELECTION_TAG}.p_value"] = f"{float(runner['p_value']):.6g}"
        tags[f"{SELECTION_TAG}.delta"] = f"{float(runner['delta']):.6g}"
    popular = popularity_row(table)
    if popular is not None and "p_value" in table:
        tags[f"{SELECTION_TAG}.p_value_vs_popularity"] = f"{float(popular['p_value']):.6g}"
    return tags


def selection_p_values(tags: dict[str, str]) -> dict[str, dg.MetadataValue]:
    """The paired p-values of the selection tags as float metadata."""
    names = {"p_value": "runner_up_p_value", "p_value_vs_popularity": "popularity_p_value"}
    return {
        label: dg.MetadataValue.float(float(tags[f"{SELECTION_TAG}.{key}"]))
        for key, label in names.items()
        if f"{SELECTION_TAG}.{key}" in tags
    }


def deliver(
    settings: Settings,
    registry: ModelRegistry,
    redis: RedisResource,
    version: str,
    evidence: str | None = None,
) -> DeliveryOutcome:
    """``start_delivery``, audited as ``system``; Redis (for the experiment) is only
    connected in experiment mode, and for the audit entry."""
    from gbrec_core.delivery import start_delivery
    from gbrec_core.delivery.start import audit_delivery
    from gbrec_core.experiments import ExperimentService

    experiments = (
        None if settings.delivery == "gate" else ExperimentService(settings, redis.client())
    )
    outcome = start_delivery(settings, registry, experiments, version, evidence=evidence)
    audit_delivery(settings, outcome, trigger="dagster")
    return outcome


def logged_run(model_evaluation: pd.DataFrame, family: str) -> tuple[str, str]:
    """The (run id, model id) ``model_evaluation`` logged for ``family``."""
    rows = model_evaluation[model_evaluation["model"] == family]
    if rows.empty:
        raise dg.Failure(f"model_evaluation has no {family!r} row")
    if RUN_COLUMN not in rows or pd.isna(rows.iloc[0][RUN_COLUMN]):
        raise dg.Failure(
            "model_evaluation predates per-family MLflow runs (no run_id column); "
            "materialise model_evaluation again"
        )
    return str(rows.iloc[0][RUN_COLUMN]), str(rows.iloc[0][MODEL_ID_COLUMN])


@dg.asset(
    name="registered_model",
    group_name="registry",
    ins={"model_evaluation": dg.AssetIn()},
    automation_condition=downstream_condition(),
    description="Best family's logged model (from model_evaluation) registered and "
    "delivered: champion at once (gate), or challenger with a staged A/B experiment.",
)
def registered_model(
    context: dg.AssetExecutionContext,
    gbrec: GbrecSettingsResource,
    registry: RegistryResource,
    redis: RedisResource,
    model_evaluation: pd.DataFrame,
) -> dg.Output[RegisteredModel]:
    settings = gbrec.settings()
    model_registry = registry.registry()
    family = str(model_evaluation.iloc[0]["model"])
    run_id, model_id = logged_run(model_evaluation, family)
    selection = selection_tags(model_evaluation, settings)
    info = model_registry.register(run_id, tags=selection)
    outcome = deliver(settings, model_registry, redis, info.version, selection[SELECTION_TAG])
    context.log.info(f"v{info.version} ({family}): {outcome.reason}")
    result = RegisteredModel(
        version=info.version,
        family=family,
        run_id=run_id,
        champion=outcome.champion,
        reason=outcome.reason,
        champion_version=outcome.champion_version,
        mode=outcome.mode,
        experiment_id=outcome.experiment_id,
        selection=selection[SELECTION_TAG],
        model_id=model_id,
    )
    return dg.Output(
        result,
        metadata={
            "version": info.version,
            "family": family,
            "delivery": outcome.mode,
            "alias": outcome.alias or "none",
            "experiment_id": outcome.experiment_id or "none",
            "promotion": outcome.reason,
            "selection": dg.MetadataValue.text(selection[SELECTION_TAG]),
            **selection_p_values(selection),
            "champion_version": str(outcome.champion_version),
            "model_name": settings.model_name,
            "mlflow_run": run_link(
                settings.tracking_uri,
                model_registry.client.get_run(run_id).info.experiment_id,
                run_id,
            ),
            "mlflow_run_id": run_id,
            "logged_model_id": model_id,
        },
    )
