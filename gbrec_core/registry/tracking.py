"""Log one training run: params, metrics, data fingerprint, code version, plots, bundle."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        client.set_tag(run_id, CHECKSUM_TAG, _log_bundle(client, run_id, model))
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    log.info("logged training run %s (%s)", run_id, model.name)
    return run_id


def _log_bundle(client: MlflowClient, run_id: str, model: Recommender) -> str:
    with tempfile.TemporaryDirectory(prefix="gbrec-bundle-") as tmp:
        bundle_dir = Path(tmp) / "bundle"
        checksum = write_bundle(model, bundle_dir)
        pyfunc_dir = save_pyfunc(bundle_dir, Path(tmp) / MODEL_ARTIFACT, PIP_REQUIREMENTS)
        client.log_artifacts(run_id, str(pyfunc_dir), artifact_path=MODEL_ARTIFACT)
    return checksum
