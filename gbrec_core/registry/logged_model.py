"""A training run's model as an MLflow 3 LoggedModel: the signed bundle as a pyfunc.

Each run gets one LoggedModel named after the family (``als``, ``ease``, ...), linked
to the run as its output, with the run's metrics, the model's params, a signature and
an input example, and the pyfunc model (models from code, :mod:`.pyfunc`) holding the
signed bundle under ``artifacts/bundle``. It is listed by the experiment's *Models*
tab and ``search_logged_models`` and loads as ``models:/<model_id>``; a registered
version points at it (its ``source`` is the model's artifact location).

Why not ``mlflow.pyfunc.log_model(name=...)``: ``mlflow.models.Model.log`` (MLflow
3.17) takes its client from the process-global tracking URI
(``MlflowClient(_resolve_tracking_uri())``) and its run from the process-global active
run, which gbrec never sets: concurrent steps of one process, and registries with
different URIs in one process (tests, the API beside the pipeline), would log into each
other. This module and ``tracking.log_run`` therefore perform ``Model.log``'s steps
through an explicit ``MlflowClient``: ``create_logged_model(source_run_id=...)``,
``save_model`` with an ``mlflow.models.Model`` carrying the model id,
``log_model_artifacts``, ``log_outputs`` (the run -> model link) and
``finalize_logged_model`` (READY, or FAILED when any step of the run raised). What
it skips: serving-input validation, which would load the model (verifying the bundle
with this process's key) only to predict the example.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from gbrec_core.access.signing import Signer
from gbrec_core.models import Recommender
from gbrec_core.registry.bundle import write_bundle
from gbrec_core.registry.pyfunc import ARTIFACT_KEY, DEFAULT_K, MODEL_CODE

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModel, Run
    from mlflow.models import ModelSignature

#: Run and version tag naming the run's LoggedModel (the SQL registry stores no model id).
MODEL_ID_TAG = "gbrec.model_id"
MODEL_TYPE = "recommender"
#: Where the bundle lives inside a logged model (or a pre-LoggedModel run's ``model/``).
BUNDLE_PATH = f"artifacts/{ARTIFACT_KEY}"
# The serving side needs numpy/pandas/scipy and gbrec itself; listing them by hand
# skips MLflow's slow requirement inference (it imports and traces the model).
PIP_REQUIREMENTS = ["gbrec", "numpy", "pandas", "scipy"]


def model_signature() -> ModelSignature:
    """``user_id`` (and optionally ``k``) in; ``user_id``, ``book_ids``, ``scores`` out;
    ``k`` also accepted as a parameter (default :data:`DEFAULT_K`)."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Array, ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("long", "user_id"), ColSpec("long", "k", required=False)]),
        outputs=Schema(
            [
                ColSpec("long", "user_id"),
                ColSpec(Array("long"), "book_ids"),
                ColSpec(Array("double"), "scores"),
            ]
        ),
        params=ParamSchema([ParamSpec("k", "long", DEFAULT_K)]),
    )


def input_example() -> pd.DataFrame:
    """Two readers, five books each (any id works: unknown readers get popularity)."""
    return pd.DataFrame({"user_id": [1, 2], "k": [5, 5]})


def create_logged_model(
    client: MlflowClient,
    experiment_id: str,
    run_id: str,
    *,
    name: str,
    params: dict[str, str],
    tags: dict[str, str],
) -> LoggedModel:
    """A PENDING LoggedModel produced by ``run_id`` (fill it with :func:`log_logged_model`)."""
    return client.create_logged_model(
        experiment_id,
        name=name,
        source_run_id=run_id,
        params=params,
        tags=tags,
        model_type=MODEL_TYPE,
    )


def log_logged_model(
    client: MlflowClient, run_id: str, logged: LoggedModel, model: Recommender, signer: Signer
) -> str:
    """Write ``model``'s signed bundle as the pyfunc model of ``logged`` and link it to
    the run; returns the bundle checksum. The caller, which owns the run, finalises
    the model (READY, or FAILED when any step of the run broke off)."""
    from mlflow.entities import LoggedModelOutput

    with tempfile.TemporaryDirectory(prefix="gbrec-model-") as tmp:
        bundle_dir = Path(tmp) / "bundle"
        checksum = write_bundle(model, bundle_dir, signer)
        local = save_pyfunc(bundle_dir, Path(tmp) / "model", _mlflow_model(run_id, logged))
        client.log_model_artifacts(logged.model_id, str(local))
    client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
    return checksum


def _mlflow_model(run_id: str, logged: LoggedModel) -> Any:
    from mlflow.models import Model

    return Model(
        artifact_path=logged.artifact_location,
        model_uuid=logged.model_id,
        run_id=run_id,
        model_id=logged.model_id,
    )


def save_pyfunc(bundle_dir: Path, out_dir: Path, mlflow_model: Any = None) -> Path:
    """Save a pyfunc model wrapping ``bundle_dir`` to ``out_dir`` as models from code
    (MLflow stores the entry file, not a pickle), with the signature and input example
    and explicit requirements (no environment inference)."""
    import mlflow.pyfunc

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="(?i).*type hint", category=UserWarning)
        mlflow.pyfunc.save_model(
            path=str(out_dir),
            python_model=str(MODEL_CODE),
            artifacts={ARTIFACT_KEY: str(bundle_dir)},
            pip_requirements=PIP_REQUIREMENTS,
            mlflow_model=mlflow_model,
            signature=model_signature(),
            input_example=input_example(),
        )
    return out_dir


def link_version(client: MlflowClient, model_id: str, name: str, version: str) -> None:
    """List ``name`` v``version`` in the logged model's ``mlflow.modelVersions`` tag
    (what ``mlflow.register_model`` and an MLflow server do; not twice)."""
    from mlflow.utils.mlflow_tags import MLFLOW_MODEL_VERSIONS

    existing = client.get_logged_model(model_id).tags.get(MLFLOW_MODEL_VERSIONS)
    listed: list[dict[str, str]] = json.loads(existing) if existing else []
    entry = {"name": name, "version": version}
    if any(str(e.get("name")) == name and str(e.get("version")) == version for e in listed):
        return
    client.set_logged_model_tags(model_id, {MLFLOW_MODEL_VERSIONS: json.dumps([*listed, entry])})


def version_source(client: MlflowClient, run: Run, model_id: str | None) -> str:
    """What a registered version points at: the logged model's artifact location, or
    (a run logged before LoggedModels) the run's ``model/`` folder. Same layout inside."""
    if model_id is None:
        return f"{run.info.artifact_uri}/model"
    return str(client.get_logged_model(model_id).artifact_location)


def all_logged_models(client: MlflowClient, experiment_id: str) -> list[LoggedModel]:
    """Every logged model of the experiment (all pages), oldest first."""
    models: list[LoggedModel] = []
    token: str | None = None
    while True:
        page = client.search_logged_models([experiment_id], page_token=token)
        models.extend(page)
        token = page.token
        if not token:
            return sorted(models, key=lambda m: m.creation_timestamp)
