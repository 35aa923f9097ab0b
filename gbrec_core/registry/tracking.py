"""Log runs: a training run (params, metrics, fingerprint, code version, plots and the
model as an MLflow 3 LoggedModel) and a metrics-only run (e.g. the pipeline's
evaluation report, tagged with its Dagster run).

Runs are created through ``MlflowClient`` with an explicit run id, never through
mlflow's process-global "active run", so concurrent steps in one process cannot log
into each other's runs and a failed step cannot leave a run open. The model is logged
the same way (:mod:`gbrec_core.registry.logged_model` says why not ``log_model``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbrec_core.access.signing import Signer
from gbrec_core.models import Recommender
from gbrec_core.registry.logged_model import (
    MODEL_ID_TAG,
    create_logged_model,
    log_logged_model,
)
from gbrec_core.registry.provenance import (
    FingerprintLike,
    code_version,
    fingerprint_tags,
    flat_params,
    metric_name,
)
from gbrec_core.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModel, Metric

log = logging.getLogger(__name__)

CHECKSUM_TAG = "gbrec.checksum"
MODEL_TAG = "gbrec.model"
LINEAGE_TAG = "gbrec.lineage"
#: The run holding the evaluation report a training run's metrics come from.
EVALUATION_RUN_TAG = "gbrec.evaluation_run"


@dataclasses.dataclass(frozen=True)
class LoggedRun:
    """A finished training run and the LoggedModel it produced."""

    run_id: str
    model_id: str
    checksum: str


def log_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    model: Recommender,
    signer: Signer,
    metrics: Mapping[str, float],
    params: dict[str, Any],
    fingerprint: FingerprintLike | dict[str, Any],
    lineage_tag: str | None,
    plots: Sequence[str | Path] | None,
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
) -> LoggedRun:
    """Create a finished run with everything and its READY LoggedModel (named after the
    family, metrics linked to it); non-finite metrics are left out."""
    from mlflow.entities import Param, RunTag

    run_tags = {**(tags or {}), MODEL_TAG: model.name, **code_version()}
    run_tags |= fingerprint_tags(fingerprint)
    if lineage_tag:
        run_tags[LINEAGE_TAG] = lineage_tag
    name = run_name or f"{model.name}-{int(time.time())}"
    run_id: str = client.create_run(experiment_id, run_name=name).info.run_id
    logged: LoggedModel | None = None
    try:
        all_params = {**flat_params("model.", model.config_dict()), **flat_params("", params)}
        logged = create_logged_model(
            client, experiment_id, run_id, name=model.name, params=all_params, tags=run_tags
        )
        client.log_batch(
            run_id,
            metrics=_metrics(metrics, logged.model_id),
            params=[Param(k, v) for k, v in all_params.items()],
            tags=[RunTag(k, v) for k, v in {**run_tags, MODEL_ID_TAG: logged.model_id}.items()],
        )
        for plot in plots or ():
            client.log_artifact(run_id, str(plot), artifact_path="plots")
        checksum = log_logged_model(client, run_id, logged, model, signer)
        client.set_tag(run_id, CHECKSUM_TAG, checksum)
        client.set_logged_model_tags(logged.model_id, {CHECKSUM_TAG: checksum})
    except BaseException:
        if logged is not None:  # a model left PENDING would look like one still uploading
            client.finalize_logged_model(logged.model_id, "FAILED")
        client.set_terminated(run_id, status="FAILED")
        raise
    client.finalize_logged_model(logged.model_id, "READY")
    client.set_terminated(run_id, status="FINISHED")
    log.info("logged training run %s (%s, model %s)", run_id, model.name, logged.model_id)
    return LoggedRun(run_id, logged.model_id, checksum)


def _metrics(metrics: Mapping[str, float], model_id: str | None = None) -> list[Metric]:
    """The finite ``metrics`` as MLflow metrics (``model_id`` links them to a LoggedModel)."""
    from mlflow.entities import Metric

    now = int(time.time() * 1000)
    return [
        Metric(metric_name(k), float(v), now, 0, model_id=model_id)
        for k, v in metrics.items()
        if math.isfinite(v)
    ]


def experiment_artifact_root(settings: Settings) -> str | None:
    """Where a new experiment keeps its artifacts.

    ``GBREC_MLFLOW_ARTIFACT_ROOT`` when set (e.g. ``s3://bucket/prefix``: clients write
    with boto3, reading ``MLFLOW_S3_ENDPOINT_URL`` and ``AWS_*``). Otherwise an MLflow
    server chooses (its ``--artifacts-destination``, proxied), and a local registry
    uses ``$GBREC_HOME/mlartifacts``: a server's clients must not each pick a path of
    their own disk.
    """
    if settings.mlflow_artifact_root:
        return settings.mlflow_artifact_root
    if settings.tracking_uri.startswith(("http://", "https://")):
        return None
    return settings.artifact_root


def ensure_experiment(client: MlflowClient, name: str, artifact_root: str | None) -> str:
    """The id of experiment ``name``, created (with ``artifact_root``) when missing."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(name, artifact_root))
    except MlflowException:
        # Another process created it between our lookup and create.
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


def log_metrics_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts: Mapping[str, Sequence[str | Path]] | None = None,
) -> str:
    """Create a finished run holding ``metrics``, ``tags`` and files (``artifacts``:
    folder in the run -> local files); returns its id. Non-finite metrics are left out.

    The run is marked FAILED (and the error re-raised) when any write fails.
    """
    from mlflow.entities import RunTag

    run_id: str = client.create_run(experiment_id, tags=dict(tags)).info.run_id
    try:
        client.log_batch(
            run_id, metrics=_metrics(metrics), tags=[RunTag(k, v) for k, v in tags.items()]
        )
        for folder, paths in (artifacts or {}).items():
            for path in paths:
                client.log_artifact(run_id, str(path), artifact_path=folder)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id
