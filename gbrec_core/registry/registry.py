"""ModelRegistry: MLflow runs, registered versions, aliases, the gate and rollback.

Champion history: the registered model carries a tag holding the stack of former
champions. ``promote`` pushes the outgoing champion; ``rollback`` pops the most recent
former champion that still exists and makes it champion *without* pushing the version
it replaces, so repeated rollbacks walk further back (v3 -> v2 -> v1) like undo, and
raise ``NotFoundError`` once the stack is empty. The tag is read-modify-written, so two
processes promoting in the same instant may lose one history entry (the aliases
themselves stay correct).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbrec_core.access.secret_keys import signing_key
from gbrec_core.access.signing import Signer
from gbrec_core.errors import (
    InvalidInputError,
    ModelLoadError,
    NotFoundError,
    PromotionRefusedError,
)
from gbrec_core.models import Recommender
from gbrec_core.paging import paginate
from gbrec_core.registry.bundle import ModelBundle, read_bundle
from gbrec_core.registry.gate import gate
from gbrec_core.registry.logged_model import (
    BUNDLE_PATH,
    MODEL_ID_TAG,
    all_logged_models,
    link_version,
    version_source,
)
from gbrec_core.registry.mlflow_errors import mlflow_errors
from gbrec_core.registry.provenance import FingerprintLike
from gbrec_core.registry.tracking import (
    CHECKSUM_TAG,
    EVALUATION_RUN_TAG,
    LINEAGE_TAG,
    MODEL_TAG,
    LoggedRun,
    ensure_experiment,
    experiment_artifact_root,
    log_metrics_run,
    log_run,
)
from gbrec_core.registry.types import (
    CHALLENGER,
    CHAMPION,
    Deployment,
    ModelVersionInfo,
    PromotionDecision,
)
from gbrec_core.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModel
    from mlflow.entities.model_registry import ModelVersion

log = logging.getLogger(__name__)

HISTORY_TAG = "gbrec.champion_history"
#: Run tags a registered version copies from its run.
VERSION_TAGS = (CHECKSUM_TAG, MODEL_TAG, MODEL_ID_TAG, LINEAGE_TAG, EVALUATION_RUN_TAG)
_HISTORY_MAX = 50


class ModelRegistry:
    """The registered model ``settings.model_name`` in the MLflow registry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.name = settings.model_name
        self.tracking_uri = settings.tracking_uri

    @cached_property
    def client(self) -> MlflowClient:
        from mlflow import MlflowClient

        if self.tracking_uri.startswith("sqlite:"):
            self.settings.ensure_home()
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    @cached_property
    def signer(self) -> Signer:
        """Signs the bundles this registry logs and verifies the ones it loads."""
        return Signer(signing_key(self.settings))

    # ---- tracking --------------------------------------------------------------------------------
    def log_training_run(
        self,
        model: Recommender,
        metrics: Mapping[str, float],
        params: dict[str, Any],
        fingerprint: FingerprintLike | dict[str, Any],
        lineage_tag: str | None = None,
        plots: Sequence[str | Path] | None = None,
    ) -> str:
        """Log a run with the model as a LoggedModel (:meth:`log_model_run`); its run id."""
        return self.log_model_run(model, metrics, params, fingerprint, lineage_tag, plots).run_id

    def log_model_run(
        self,
        model: Recommender,
        metrics: Mapping[str, float],
        params: dict[str, Any],
        fingerprint: FingerprintLike | dict[str, Any],
        lineage_tag: str | None = None,
        plots: Sequence[str | Path] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        run_name: str | None = None,
    ) -> LoggedRun:
        """A finished run in ``GBREC_MLFLOW_EXPERIMENT`` with the model's signed bundle
        as the pyfunc of a READY LoggedModel named after the family."""
        with mlflow_errors("log training run"):
            return log_run(
                self.client,
                ensure_experiment(
                    self.client,
                    self.settings.mlflow_experiment,
                    experiment_artifact_root(self.settings),
                ),
                model=model,
                signer=self.signer,
                metrics=metrics,
                params=params,
                fingerprint=fingerprint,
                lineage_tag=lineage_tag,
                plots=plots,
                tags=tags,
                run_name=run_name,
            )

    def log_metrics_run(
        self,
        experiment: str,
        *,
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        artifacts: Mapping[str, Sequence[str | Path]] | None = None,
    ) -> str:
        """A finished run in ``experiment`` (created when missing) with metrics and files
        (``artifacts``: folder in the run -> local files) only."""
        with mlflow_errors(f"log run in experiment {experiment}"):
            root = experiment_artifact_root(self.settings)
            experiment_id = ensure_experiment(self.client, experiment, root)
            return log_metrics_run(
                self.client,
                experiment_id,
                metrics=metrics,
                tags=tags,
                artifacts=artifacts,
            )

    def logged_models(self) -> list[LoggedModel]:
        """Every logged model of ``GBREC_MLFLOW_EXPERIMENT`` (all pages), oldest first."""
        with mlflow_errors("list logged models"):
            found = self.client.get_experiment_by_name(self.settings.mlflow_experiment)
            return [] if found is None else all_logged_models(self.client, found.experiment_id)

    # ---- versions --------------------------------------------------------------------------------
    def register(self, run_id: str, tags: Mapping[str, str] | None = None) -> ModelVersionInfo:
        """Make the run's LoggedModel a new version of the registered model.

        The version's ``source`` is the model's artifact location and ``model_id`` is
        passed (MLflow's SQL registry does not keep it, so the tag ``gbrec.model_id``
        does); the logged model's ``mlflow.modelVersions`` tag lists the version. The
        run's checksum, model, lineage and evaluation-run tags are copied to the version,
        beside ``tags``. A run logged before LoggedModels registers its ``model/`` folder.
        """
        from mlflow.exceptions import MlflowException

        with mlflow_errors(f"register run {run_id}"):
            run = self.client.get_run(run_id)
            try:
                self.client.create_registered_model(self.name)
            except MlflowException as e:
                if e.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            own = {k: run.data.tags[k] for k in VERSION_TAGS if k in run.data.tags}
            model_id = own.get(MODEL_ID_TAG)
            mv = self.client.create_model_version(
                self.name,
                version_source(self.client, run, model_id),
                run_id=run_id,
                tags={**(tags or {}), **own},
                model_id=model_id,
            )
            if model_id:
                link_version(self.client, model_id, self.name, str(mv.version))
            log.info("registered %s version %s from run %s", self.name, mv.version, run_id)
            return self._info(mv, self._alias_map())

    def versions(
        self, *, first: int | None = None, after: str | None = None
    ) -> list[ModelVersionInfo]:
        """A page of versions, newest first, with aliases and its run's metrics; the
        page is chosen before any run is read (one MLflow call per listed version)."""
        with mlflow_errors("list model versions"):
            found = self.client.search_model_versions(f"name = '{self.name}'")
            ordered = sorted(found, key=lambda mv: int(mv.version), reverse=True)
            page = paginate(ordered, key=lambda mv: str(mv.version), first=first, after=after)
            aliases = self._alias_map() if page else {}
            return [self._info(mv, aliases) for mv in page]

    def version(self, version_or_alias: str) -> ModelVersionInfo:
        with mlflow_errors(f"get version {version_or_alias}"):
            return self._info(self._model_version(version_or_alias), self._alias_map())

    def champion(self) -> ModelVersionInfo | None:
        current = self.champion_version()
        return None if current is None else self.version(current)

    def champion_version(self) -> str | None:
        """The champion alias's version number: one cheap call (what watchers poll)."""
        return self._alias_version(CHAMPION)

    def resolve(self, version_or_alias: str) -> str:
        """Version number for a number or an alias; ``NotFoundError`` when unknown."""
        with mlflow_errors(f"resolve {version_or_alias}"):
            return str(self._model_version(version_or_alias).version)

    def previous_champion(self) -> str | None:
        """The version ``rollback()`` would restore, or None."""
        current = self.champion_version()
        with mlflow_errors("read champion history"):
            for candidate in reversed(self._history()):
                if candidate != current and self._exists(candidate):
                    return candidate
        return None

    def dagster_run(self, version: str) -> str | None:
        """The Dagster run that trained ``version`` (its run's ``dagster:<id>`` lineage tag)."""
        info = self.version(version)
        if info.run_id is None:
            return None
        with mlflow_errors(f"read lineage of {version}"):
            lineage = self.client.get_run(info.run_id).data.tags.get(LINEAGE_TAG, "")
        return lineage.removeprefix("dagster:") if lineage.startswith("dagster:") else None

    def alias_version(self, alias: str) -> str | None:
        """The version ``alias`` points at, or None when the alias is not set."""
        return self._alias_version(alias)

    def set_alias(self, alias: str, version: str) -> None:
        """Point a free alias (e.g. ``baseline``) at ``version``.

        ``champion`` and ``challenger`` are refused: they move only through
        promote/propose/rollback, which keep the champion history and the gate.
        """
        if alias in (CHAMPION, CHALLENGER):
            raise InvalidInputError(f"{alias!r} moves only through promote/propose/rollback")
        version = self.resolve(version)
        with mlflow_errors(f"set alias {alias}"):
            self.client.set_registered_model_alias(self.name, alias, version)
        log.info("alias %s of %s: v%s", alias, self.name, version)

    # ---- aliases: promote, propose, rollback -----------------------------------------------------
    def evaluate_gate(self, version: str) -> PromotionDecision:
        """Apply the promotion gate to ``version`` against the current champion."""
        metric = self.settings.primary_metric
        candidate = self.version(version)
        champion = self.champion()
        if champion is not None and champion.version == candidate.version:
            champion = None
        accepted, reason = gate(
            metric=metric,
            tolerance=self.settings.promotion_tolerance,
            candidate=candidate.metrics.get(metric),
            champion=None if champion is None else champion.metrics.get(metric),
            champion_version=None if champion is None else champion.version,
        )
        return PromotionDecision(
            version=candidate.version,
            accepted=accepted,
            reason=reason,
            metric=metric,
            candidate_value=candidate.metrics.get(metric),
            champion_version=None if champion is None else champion.version,
            champion_value=None if champion is None else champion.metrics.get(metric),
        )

    def set_challenger(self, version: str) -> None:
        """Point ``challenger`` at ``version`` without touching ``champion``.

        The delivery loop's entry: the gate was already checked by the caller
        (:meth:`evaluate_gate`) and promotion is left to the A/B test. A champion
        cannot also be the challenger.
        """
        version = self.resolve(version)
        if self.champion_version() == version:
            raise InvalidInputError(f"v{version} is the champion; it cannot be the challenger")
        with mlflow_errors(f"set challenger {version}"):
            self.client.set_registered_model_alias(self.name, CHALLENGER, version)
        log.info("challenger of %s: v%s", self.name, version)

    def propose(self, version: str) -> PromotionDecision:
        """Make ``version`` the challenger; promote it when the gate accepts."""
        with mlflow_errors(f"set challenger {version}"):
            self.client.set_registered_model_alias(self.name, CHALLENGER, version)
        decision = self.evaluate_gate(version)
        log.info("promotion gate for v%s: %s", version, decision.reason)
        if not decision.accepted:
            return decision
        deployment = self.promote(version, force=True)
        return PromotionDecision(**{**vars(decision), "deployment": deployment})

    def promote(self, version: str, force: bool = False) -> Deployment:
        """Point ``champion`` at ``version``; without ``force`` the gate must accept."""
        version = self.resolve(version)
        if not force:
            decision = self.evaluate_gate(version)
            if not decision.accepted:
                raise PromotionRefusedError(f"v{version} not promoted: {decision.reason}")
        previous = self.champion_version()
        with mlflow_errors(f"promote {version}"):
            self.client.set_registered_model_alias(self.name, CHAMPION, version)
            if previous is not None and previous != version:
                self._write_history([*self._history(), previous])
            if self._alias_version(CHALLENGER) == version:
                self.client.delete_registered_model_alias(self.name, CHALLENGER)
        log.info("champion of %s: v%s (was v%s)", self.name, version, previous)
        return Deployment(version=version, previous_version=previous, at=datetime.now(UTC))

    def rollback(self) -> Deployment:
        """Restore the most recent former champion (see the module docstring)."""
        current = self.champion_version()
        with mlflow_errors("rollback"):
            history = self._history()
            while history:
                candidate = history.pop()
                if candidate != current and self._exists(candidate):
                    self.client.set_registered_model_alias(self.name, CHAMPION, candidate)
                    self._write_history(history)
                    log.warning("rolled %s back from v%s to v%s", self.name, current, candidate)
                    return Deployment(candidate, current, datetime.now(UTC))
        raise NotFoundError(f"{self.name} has no previous champion to roll back to")

    def retire_challenger(self, version: str) -> bool:
        """Remove the ``challenger`` alias if it still points at ``version`` (a newer
        challenger proposed meanwhile keeps its alias); True when it was removed."""
        if self._alias_version(CHALLENGER) != version:
            return False
        with mlflow_errors(f"remove challenger {version}"):
            self.client.delete_registered_model_alias(self.name, CHALLENGER)
        log.info("challenger v%s of %s retired", version, self.name)
        return True

    def lineage(self, version: str) -> str | None:
        """The ``gbrec.lineage`` tag of the run that trained ``version`` (e.g.
        ``dagster:<run id>``), or None when it was logged without one."""
        info = self.version(version)
        if info.run_id is None:
            return None
        with mlflow_errors(f"read lineage of {version}"):
            return self.client.get_run(info.run_id).data.tags.get(LINEAGE_TAG)

    # ---- artifacts -------------------------------------------------------------------------------
    def download(self, version: str, dest: Path) -> tuple[Path, ModelVersionInfo]:
        """Download ``version``'s bundle into ``dest`` (created); not verified here.

        The bundle is read from the version's ``source`` (its logged model's artifact
        location, or an older version's run ``model/`` folder): the same layout."""
        from mlflow.artifacts import download_artifacts

        info = self.version(version)
        if not info.source:
            raise ModelLoadError(f"version {version} of {self.name} has no source")
        dest.mkdir(parents=True, exist_ok=True)
        with mlflow_errors(f"download version {version}"):
            path = download_artifacts(
                artifact_uri=f"{info.source.rstrip('/')}/{BUNDLE_PATH}",
                dst_path=str(dest),
                tracking_uri=self.tracking_uri,
            )
        return Path(path), info

    def load(self, version_or_alias: str) -> ModelBundle:
        """Download and verify a version's bundle (checksum against the registry's tag)."""
        tmp = Path(tempfile.mkdtemp(prefix="gbrec-load-"))
        path, info = self.download(self.resolve(version_or_alias), tmp)
        return read_bundle(path, self.signer, expected_checksum=info.checksum)

    # ---- helpers ---------------------------------------------------------------------------------
    def _model_version(self, version_or_alias: str) -> ModelVersion:
        if version_or_alias.isdigit():
            if not version_or_alias.isascii() or len(version_or_alias) > 18:
                # The SQL store would overflow (a misleading "unavailable"): no such version.
                raise NotFoundError(f"{self.name} has no version {version_or_alias!r}")
            return self.client.get_model_version(self.name, version_or_alias)
        return self.client.get_model_version_by_alias(self.name, version_or_alias)

    def _alias_version(self, alias: str) -> str | None:
        try:
            with mlflow_errors(f"read alias {alias}"):
                return str(self.client.get_model_version_by_alias(self.name, alias).version)
        except NotFoundError:
            return None

    def _alias_map(self) -> dict[str, list[str]]:
        """Every alias (champion, challenger, baseline, ...) by version, in one call:
        ``search_model_versions`` does not return aliases."""
        try:
            with mlflow_errors("read aliases"):
                aliases = self.client.get_registered_model(self.name).aliases or {}
        except NotFoundError:
            return {}
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(str(version), []).append(str(alias))
        return by_version

    def _exists(self, version: str) -> bool:
        try:
            with mlflow_errors(f"get version {version}"):
                self.client.get_model_version(self.name, version)
        except NotFoundError:
            return False
        return True

    def _history(self) -> list[str]:
        tags = self.client.get_registered_model(self.name).tags
        return [str(v) for v in json.loads(tags.get(HISTORY_TAG, "[]"))]

    def _write_history(self, history: list[str]) -> None:
        value = json.dumps(history[-_HISTORY_MAX:])
        self.client.set_registered_model_tag(self.name, HISTORY_TAG, value)

    def _info(self, mv: ModelVersion, aliases: dict[str, list[str]]) -> ModelVersionInfo:
        metrics = dict(self.client.get_run(mv.run_id).data.metrics) if mv.run_id else {}
        return ModelVersionInfo(
            version=str(mv.version),
            aliases=sorted(set(aliases.get(str(mv.version), [])) | set(mv.aliases or [])),
            metrics={k: float(v) for k, v in metrics.items()},
            created_at=datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC),
            run_id=mv.run_id,
            checksum=(mv.tags or {}).get(CHECKSUM_TAG),
            model=(mv.tags or {}).get(MODEL_TAG),
            source=mv.source,
            model_id=mv.model_id or (mv.tags or {}).get(MODEL_ID_TAG),
        )
