"""Load a version off to the side: resolve, download (or reuse the disk cache), verify, warm.

Nothing here touches what the server is currently serving; the server swaps the
result in only once this has fully succeeded. Every bundle, downloaded or cached, is
verified signature first (:func:`gbrec_core.registry.bundle.verify_bundle`); a cached
copy that fails (or has no checksum to check against) is discarded, counted in
``DiskCache.rejected`` and refetched, and a download that fails raises.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time

import numpy as np

from gbrec_core.errors import ModelLoadError, SignatureError, UnavailableError
from gbrec_core.registry import CHAMPION, ModelBundle, ModelRegistry, ModelVersionInfo, read_bundle
from gbrec_core.serving.disk_cache import DiskCache

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class LoadedVersion:
    """A verified, warmed version ready to answer requests."""

    info: ModelVersionInfo
    bundle: ModelBundle
    load_seconds: float

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def nbytes(self) -> int:
        return self.bundle.nbytes


class VersionLoader:
    def __init__(self, registry: ModelRegistry, disk: DiskCache) -> None:
        self.registry = registry
        self.disk = disk
        self.signer = registry.signer

    def describe(self, version_or_alias: str) -> ModelVersionInfo:
        """Registry info, or the disk cache's copy when the registry is unreachable."""
        try:
            return self.registry.version(version_or_alias)
        except UnavailableError:
            version = self.disk.champion() if version_or_alias == CHAMPION else version_or_alias
            info = self.disk.info(version) if version else None
            if info is None:
                raise
            log.warning("registry unreachable; using cached info for v%s", info.version)
            return info

    def load(self, version_or_alias: str) -> LoadedVersion:
        """Verified and warmed version; ``ModelLoadError`` / ``UnavailableError`` otherwise."""
        start = time.perf_counter()
        info = self.describe(version_or_alias)
        bundle = self._from_disk(info)
        if bundle is None:
            bundle = self._download(info)
        _smoke(bundle, info.version)
        return LoadedVersion(info, bundle, time.perf_counter() - start)

    def _from_disk(self, info: ModelVersionInfo) -> ModelBundle | None:
        cached = self.disk.info(info.version)
        if cached is None or not self.disk.path(info.version).is_dir():
            return None
        if info.checksum and cached.checksum != info.checksum:
            log.warning("disk cache of v%s is stale (checksum differs); refetching", info.version)
            return None
        expected = info.checksum or cached.checksum
        if not expected:
            self._reject(info.version, "unchecked", "it has no checksum")
            return None
        try:
            return read_bundle(self.disk.path(info.version), self.signer, expected)
        except SignatureError as e:
            self._reject(info.version, "signature", str(e))
        except ModelLoadError as e:
            self._reject(info.version, "damaged", str(e))
        return None

    def _reject(self, version: str, reason: str, detail: str) -> None:
        """Drop a cached copy that may not serve: counted, logged, refetched by the caller."""
        self.disk.rejected[reason] += 1
        log.error("disk cache of v%s refused (%s); refetching", version, detail)
        self.disk.discard(version)

    def _download(self, info: ModelVersionInfo) -> ModelBundle:
        if not info.checksum:
            raise ModelLoadError(f"v{info.version} has no checksum tag; refusing to serve it")
        staged = self.disk.staging_dir()
        try:
            path, _ = self.registry.download(info.version, staged)
            bundle = read_bundle(path, self.signer, expected_checksum=info.checksum)
            target = self.disk.commit(path, info)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        return dataclasses.replace(bundle, path=target)


def _smoke(bundle: ModelBundle, version: str) -> None:
    """One real prediction before a version may serve: catches models that load but fail."""
    model = bundle.model
    if model.users is None or model.items is None or len(model.items) == 0:
        raise ModelLoadError(f"v{version}: model has no users or items")
    probe = model.users.ids[:1] if len(model.users) else np.array([-1], dtype=np.int64)
    try:
        ids, scores = model.recommend(probe, k=min(5, len(model.items)))
    except Exception as e:  # a model that cannot predict must never be swapped in
        raise ModelLoadError(f"v{version}: smoke prediction failed: {e}") from e
    valid = ids[ids >= 0]
    if ids.shape[0] != probe.shape[0] or not np.isin(valid, model.items.ids).all():
        raise ModelLoadError(f"v{version}: smoke prediction returned unknown book ids")
    if not np.isfinite(scores[ids >= 0]).all():
        raise ModelLoadError(f"v{version}: smoke prediction returned non-finite scores")
