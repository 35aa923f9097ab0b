"""Retention: keep the newest ``GBREC_KEEP_VERSIONS`` registry versions, prune the rest.

Every retrain adds a registry version, its run's artifacts (bundle, plots), a
disk-cache copy, index folders and (with Milvus) a collection. :func:`prune_versions`
removes, for each version beyond the newest N that carries no alias and that no
caller protects (e.g. a running experiment's arm), in this order: the registry
version (so nothing can deploy it any more), its run's artifacts when no kept
version shares the run (the run itself stays, tagged ``gbrec.pruned``, with its
params and metrics), this home's disk-cache copy, its index folder and its Milvus
collections. A step that fails is reported in ``failures`` and logged; the others
still run, and the next prune retries what is left.

Each version's model is an MLflow LoggedModel: pruning a version deletes that logged
model (its artifacts, then the entity) unless a kept version shares it. Every
evaluation also logs the families it did not register; such a logged model that no
version uses and that is older than the oldest kept version is deleted too
(``models``) unless it was evaluated beside a kept version (same
``gbrec.evaluation_run`` tag), so the registry keeps the bundles of about the last
``GBREC_KEEP_VERSIONS`` evaluations, not of every retrain.

Hosts with homes of their own (API replicas) also hold disk-cache copies and index
folders: each prune removes this home's copies of versions the registry no longer has
(``orphans``; only versions older than the newest one listed, so a version registered
during the prune is never taken for an orphan). ``gbrec prune`` on a host does that.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gbrec_core.errors import GbrecError, UnavailableError
from gbrec_core.registry.mlflow_errors import mlflow_errors
from gbrec_core.registry.registry import ModelRegistry
from gbrec_core.registry.tracking import EVALUATION_RUN_TAG
from gbrec_core.registry.types import ModelVersionInfo
from gbrec_core.settings import Settings

if TYPE_CHECKING:
    from gbrec_core.experiments import ExperimentService

log = logging.getLogger(__name__)

PRUNED_TAG = "gbrec.pruned"


@dataclasses.dataclass(frozen=True)
class PrunedVersion:
    """One pruned version and what was removed for it (human-readable items)."""

    version: str
    run_id: str | None
    removed: list[str]


@dataclasses.dataclass(frozen=True)
class RetentionReport:
    keep: int
    kept: list[str]
    pruned: list[PrunedVersion]
    failures: list[str]
    dry_run: bool = False
    orphans: list[str] = dataclasses.field(default_factory=list)
    protected: list[str] = dataclasses.field(default_factory=list)
    models: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def versions_to_prune(
    versions: Sequence[ModelVersionInfo], keep: int, protected: Collection[str] = ()
) -> list[ModelVersionInfo]:
    """Versions beyond the newest ``keep`` (by number) with no alias, not ``protected``."""
    newest = sorted(versions, key=lambda v: int(v.version), reverse=True)
    return [v for v in newest[keep:] if not v.aliases and v.version not in protected]


def running_experiment_versions(experiments: ExperimentService) -> set[str]:
    """Registry versions named (by number) by an arm of a running experiment: protected,
    so retention never pulls a model out from under live traffic."""
    from gbrec_core.experiments.types import ExperimentStatus

    running = experiments.find(ExperimentStatus.RUNNING)
    return {v.model for e in running for v in e.spec.variants if v.model.isdigit()}


def prune_home(settings: Settings, *, dry_run: bool = False) -> RetentionReport:
    """:func:`prune_versions` protecting the arms of running experiments (read from
    Redis: when it is down this raises before anything is pruned)."""
    from gbrec_core.experiments import ExperimentService
    from gbrec_core.store import connect

    client = connect(settings)
    try:
        protected = running_experiment_versions(ExperimentService(settings, client))
    finally:
        client.close()
    return prune_versions(settings, protected=protected, dry_run=dry_run)


def prune_versions(
    settings: Settings,
    registry: ModelRegistry | None = None,
    *,
    protected: Collection[str] = (),
    dry_run: bool = False,
) -> RetentionReport:
    """Prune per the module docstring; ``dry_run`` only reports what would go."""
    registry = registry or ModelRegistry(settings)
    versions = registry.versions()
    doomed = versions_to_prune(versions, settings.keep_versions, protected)
    gone = {v.version for v in doomed}
    kept = [v for v in versions if v.version not in gone]
    ctx = _Pruning(settings, registry, kept, [], versions)
    try:
        pruned = [_prune_one(ctx, info, dry_run) for info in doomed]
        orphans = _prune_orphans(ctx, {v.version for v in versions} - gone, dry_run)
        models = _prune_unregistered_models(ctx, dry_run)
    finally:
        ctx.close()
    report = RetentionReport(
        keep=settings.keep_versions,
        kept=[v.version for v in kept],
        pruned=pruned,
        failures=ctx.failures,
        dry_run=dry_run,
        orphans=orphans,
        protected=sorted(protected, key=int),
        models=models,
    )
    log.info("retention: pruned %s, kept %s", [p.version for p in pruned], report.kept)
    return report


@dataclasses.dataclass
class _Pruning:
    settings: Settings
    registry: ModelRegistry
    kept: list[ModelVersionInfo]
    failures: list[str]
    everything: list[ModelVersionInfo] = dataclasses.field(default_factory=list)
    _milvus: Any = None

    def milvus(self) -> Any:
        """One Milvus client for the whole prune (Milvus Lite starts a server per client)."""
        if self._milvus is None:
            try:
                from pymilvus import MilvusClient

                self._milvus = MilvusClient(uri=self.settings.resolved_milvus_uri)
            except Exception as e:  # pymilvus raises many types; all mean "unreachable"
                raise UnavailableError(f"cannot reach Milvus: {e}") from e
        return self._milvus

    def close(self) -> None:
        if self._milvus is not None:
            self._milvus.close()

    def step(self, version: str, what: str, action: Callable[[], bool], dry_run: bool) -> bool:
        """Run ``action`` (True when it removed something); failures are collected."""
        return self.attempt(f"v{version}: {what}", action, dry_run)

    def attempt(self, label: str, action: Callable[[], bool], dry_run: bool) -> bool:
        if dry_run:
            return True
        try:
            return action()
        except (GbrecError, OSError) as e:
            self.failures.append(f"{label}: {e}")
            log.error("retention could not remove %s: %s", label, e)
            return False


def _prune_one(ctx: _Pruning, info: ModelVersionInfo, dry_run: bool) -> PrunedVersion:
    version, removed = info.version, list[str]()
    if not ctx.step(version, "registry version", partial(_delete_version, ctx, info), dry_run):
        return PrunedVersion(version, info.run_id, removed)  # still deployable: keep the rest
    removed.append("registry version")
    shared = any(k.run_id == info.run_id for k in ctx.kept)
    delete_run = partial(_delete_artifacts, ctx, info)
    if info.run_id and not shared and ctx.step(version, "run artifacts", delete_run, dry_run):
        removed.append(f"run artifacts ({info.run_id})")
    folders = {
        "disk-cache copy": _disk_cache_dirs(ctx.settings, version),
        "index folder": [ctx.settings.index_dir / version],
    }
    for what, paths in folders.items():
        if ctx.step(version, what, partial(_remove, paths), dry_run):
            removed.append(what)
    for name in _milvus_collections(ctx, version):
        if ctx.step(version, "milvus", partial(_drop_collection, ctx, name), dry_run):
            removed.append(f"milvus collection {name}")
    return PrunedVersion(version, info.run_id, removed)


def _prune_orphans(ctx: _Pruning, registered: set[str], dry_run: bool) -> list[str]:
    """Remove this home's copies of versions older than the newest registered one that
    the registry no longer has; returns those versions."""
    if not registered:
        return []
    newest = max(int(v) for v in registered)
    cache = ctx.settings.resolved_home / "serving" / ctx.settings.model_name
    local = {p.name.removeprefix("v") for p in _children(cache) if p.is_dir()}
    local |= {p.name for p in _children(ctx.settings.index_dir) if p.is_dir()}
    orphans = sorted(
        (v for v in local if v.isdigit() and int(v) < newest and v not in registered), key=int
    )
    for version in orphans:
        paths = [*_disk_cache_dirs(ctx.settings, version), ctx.settings.index_dir / version]
        ctx.step(version, "local copies", partial(_remove, paths), dry_run)
    return orphans


def _children(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _delete_version(ctx: _Pruning, info: ModelVersionInfo) -> bool:
    with mlflow_errors(f"delete version {info.version}"):
        ctx.registry.client.delete_model_version(ctx.registry.name, info.version)
    return True


def _delete_artifacts(ctx: _Pruning, info: ModelVersionInfo) -> bool:
    """The run's artifacts (plots, or an older version's ``model/``) and its logged model."""
    client = ctx.registry.client
    with mlflow_errors(f"delete artifacts of run {info.run_id}"):
        run = client.get_run(str(info.run_id))
        _delete_tree(ctx, run.info.artifact_uri)
        if info.model_id:
            _delete_logged_model(ctx, info.model_id)
        client.set_tag(str(info.run_id), PRUNED_TAG, datetime.now(UTC).isoformat())
    return True


def _delete_tree(ctx: _Pruning, uri: str) -> None:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(uri, tracking_uri=ctx.registry.tracking_uri)
    repository.delete_artifacts()  # type: ignore[no-untyped-call]


def _delete_logged_model(ctx: _Pruning, model_id: str) -> None:
    """Artifacts first: a failure leaves the entity, so the next prune retries."""
    client = ctx.registry.client
    _delete_tree(ctx, client.get_logged_model(model_id).artifact_location)
    client.delete_logged_model(model_id)


def _prune_unregistered_models(ctx: _Pruning, dry_run: bool) -> list[str]:
    """Delete the logged models no version uses that are older than the oldest kept
    version (see the module docstring); their ids. Their runs stay."""
    remaining = ctx.kept if dry_run else ctx.registry.versions()
    if not remaining:
        return []
    models = ctx.registry.logged_models()
    # A dry run has deleted nothing: the doomed versions' models are theirs to report.
    used = {v.model_id for v in (ctx.everything if dry_run else remaining)}
    # The families evaluated beside a kept version stay with it.
    evaluations = {m.tags.get(EVALUATION_RUN_TAG) for m in models if m.model_id in used}
    evaluations.discard(None)  # an untagged model belongs to no evaluation
    oldest = min(v.created_at for v in remaining).timestamp() * 1000
    stale = [
        m.model_id
        for m in models
        if m.model_id not in used
        and m.creation_timestamp < oldest
        and m.tags.get(EVALUATION_RUN_TAG) not in evaluations
    ]
    for model_id in stale:
        ctx.attempt(f"logged model {model_id}", partial(_unregistered, ctx, model_id), dry_run)
    return stale


def _unregistered(ctx: _Pruning, model_id: str) -> bool:
    with mlflow_errors(f"delete logged model {model_id}"):
        _delete_logged_model(ctx, model_id)
    return True


def _disk_cache_dirs(settings: Settings, version: str) -> list[Path]:
    root = settings.resolved_home / "serving" / settings.model_name
    return [root / f"v{version}", root / f"v{version}.json"]


def _remove(paths: list[Path]) -> bool:
    found = False
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
            found = True
        elif path.exists():
            path.unlink()
            found = True
    return found


def _milvus_collections(ctx: _Pruning, version: str) -> list[str]:
    """This version's collections that exist (both naming schemes in use)."""
    if not _milvus_in_use(ctx.settings):
        return []
    from gbrec_core.index.milvus import collection_name

    names = {f"gbrec_v{version}", collection_name(ctx.settings.model_name, version)}
    try:
        existing = set(ctx.milvus().list_collections())
    except GbrecError as e:
        ctx.failures.append(f"v{version}: milvus: {e}")
        return []
    return sorted(names & existing)


def _milvus_in_use(settings: Settings) -> bool:
    """A Milvus server is configured, or this home has a Milvus Lite file."""
    return bool(settings.milvus_uri) or Path(settings.resolved_milvus_uri).exists()


def _drop_collection(ctx: _Pruning, name: str) -> bool:
    try:
        ctx.milvus().drop_collection(name)
    except GbrecError:
        raise
    except Exception as e:  # pymilvus raises many types
        raise UnavailableError(f"Milvus could not drop {name}: {e}") from e
    return True
