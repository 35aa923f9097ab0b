"""Log runs: a training run (params, metrics, fingerprint, code version, plots, bundle)
and a metrics-only run (e.g. the pipeline's evaluation table, tagged with its Dagster run).

Runs are created through ``MlflowClient`` with an explicit run id, never through
mlflow's process-global "active run", so concurrent steps in one process cannot log
into each other's runs and a failed step cannot leave a run open.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbrec_core.access.signing import Signer
from gbrec_core.models import Recommender
from gbrec_core.registry.bundle import write_bundle
from gbrec_core.registry.provenance import (
    FingerprintLike,
    code_version,
    fingerprint_tags,
    flat_params,
    metric_name,
)
from gbrec_core.registry.pyfunc import save_pyfunc
from gbrec_core.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
BUNDLE_ARTIFACT = f"{MODEL_ARTIFACT}/artifacts/bundle"
CHECKSUM_TAG = "gbrec.checksum"
MODEL_TAG = "gbrec.model"
LINEAGE_TAG = "gbrec.lineage"
# The serving side needs numpy/pandas/scipy and gbrec itself; listing them by hand
# skips MLflow's slow requirement inference (it imports and traces the model).
PIP_REQUIREMENTS = ["gbrec", "numpy", "pandas", "scipy"]


def log_run(
    client: MlflowClient,
    experiment_id: str,
    *,
    model: Recommender,
    signer: Signer,
    metrics: dict[str, float],
    params: dict[str, Any],
    fingerprint: FingerprintLike | dict[str, Any],
    lineage_tag: str | None,
    plots: Sequence[str | Path] | None,
) -> str:
    """Create a finished run holding everything; returns its run id."""
    from mlflow.entities import Metric, Param, RunTag

    tags = {MODEL_TAG: model.name, **code_version(), **fingerprint_tags(fingerprint)}
    if lineage_tag:
        tags[LINEAGE_TAG] = lineage_tag
    run = client.create_run(experiment_id, run_name=f"{model.name}-{int(time.time())}")
    run_id: str = run.info.run_id
    try:
        now = int(time.time() * 1000)
        all_params = {**flat_params("model.", model.config_dict()), **flat_params("", params)}
        client.log_batch(
            run_id,
            metrics=[Metric(metric_name(k), float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in all_params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        for plot in plots or ():
            client.log_artifact(run_id, str(plot), artifact_path="plots")
        client.set_tag(run_id, CHECKSUM_TAG, _log_bundle(client, run_id, model, signer))
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    log.info("logged training run %s (%s)", run_id, model.name)
    return run_id


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
    from mlflow.entities import Metric, RunTag

    run_id: str = client.create_run(experiment_id, tags=dict(tags)).info.run_id
    try:
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[
                Metric(metric_name(k), float(v), now, 0)
                for k, v in metrics.items()
                if math.isfinite(v)
            ],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        for folder, paths in (artifacts or {}).items():
            for path in paths:
                client.log_artifact(run_id, str(path), artifact_path=folder)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def _log_bundle(client: MlflowClient, run_id: str, model: Recommender, signer: Signer) -> str:
    with tempfile.TemporaryDirectory(prefix="gbrec-bundle-") as tmp:
        bundle_dir = Path(tmp) / "bundle"
        checksum = write_bundle(model, bundle_dir, signer)
        pyfunc_dir = save_pyfunc(bundle_dir, Path(tmp) / MODEL_ARTIFACT, PIP_REQUIREMENTS)
        client.log_artifacts(run_id, str(pyfunc_dir), artifact_path=MODEL_ARTIFACT)
    return checksum
