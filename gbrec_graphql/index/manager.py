"""The vector index this API process searches for similarBooks.

It indexes the item vectors of the serving version, is saved under
``$GBREC_HOME/indices/<version>/api-<kind>`` and attached to the ModelServer for
that version only (the server answers from the model's own similarities while the
serving version has no index). Builds run in a worker thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from gbrec_core.errors import GbrecError, InvalidInputError, UnavailableError
from gbrec_core.registry import CHAMPION
from gbrec_core.serving import FALLBACK_VERSION, ModelServer
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexBuildInfo:
    version: str
    kind: str
    shards: int
    vectors: int
    dim: int
    seconds: float
    loaded_from_disk: bool
    path: Path
    at: datetime


class IndexManager:
    def __init__(self, settings: Settings, server: ModelServer) -> None:
        self.settings = settings
        self.server = server
        self.index: Any = None
        self.info: IndexBuildInfo | None = None

    def path(self, version: str) -> Path:
        return self.settings.index_dir / version / f"api-{self.settings.index_kind}"

    def ensure(self) -> IndexBuildInfo | None:
        """At start: load the serving version's saved index, else build it; None if impossible."""
        try:
            return self._load_or_build(rebuild=False)
        except GbrecError as e:
            log.warning("no vector index at start (%s); similarBooks uses the model", e)
            return None

    def rebuild(self) -> IndexBuildInfo:
        return self._load_or_build(rebuild=True)

    def stats(self) -> dict[str, Any]:
        if self.index is None:
            return {}
        return dict(self.index.stats())

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    def _load_or_build(self, *, rebuild: bool) -> IndexBuildInfo:
        from gbrec_core.index import load_index, make_index

        version = self.server.serving_version().version
        if version == FALLBACK_VERSION:
            raise UnavailableError("no model is loaded, so there are no item vectors to index")
        vectors = self.server.ensure_loaded(CHAMPION).bundle.item_vectors
        if vectors is None:
            raise InvalidInputError(f"model v{version} has no item vectors to index")
        path = self.path(version)
        started = time.perf_counter()
        from_disk = path.exists() and not rebuild
        if from_disk:
            index = load_index(path)
        else:
            index = make_index(
                self.settings.index_kind,
                dim=int(vectors.vectors.shape[1]),
                metric="ip",
                shards=self.settings.index_shards,
            )
            index.add(
                np.asarray(vectors.book_ids, dtype=np.int64),
                np.asarray(vectors.vectors, dtype=np.float32),
            )
            index.save(path)
        old, self.index = self.index, index
        self.server.attach_index(index, version)
        if old is not None and old is not index:
            old.close()
        self.info = IndexBuildInfo(
            version=version,
            kind=self.settings.index_kind,
            shards=self.settings.index_shards,
            vectors=len(index),
            dim=int(vectors.vectors.shape[1]),
            seconds=time.perf_counter() - started,
            loaded_from_disk=from_disk,
            path=path,
            at=datetime.now(UTC),
        )
        log.info(
            "vector index for v%s %s in %.2fs",
            version,
            "loaded" if from_disk else "built",
            self.info.seconds,
        )
        return self.info
