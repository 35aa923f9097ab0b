"""The vector index this serving process searches for similar books.

It serves the pipeline's index of the serving version: the shard set the
``vector_index`` asset wrote under ``$GBREC_HOME/indices/<version>/<GBREC_INDEX_KIND>``
(one folder per shard, opened as one index) and the embeddings stored beside it in
``indices/<version>/embeddings``, which give each book's query vector. In order:

1. index and embeddings present and verified -> load them (``healthy``);
2. an index shard corrupted, missing or stale -> log it, answer by exact search over the
   stored embeddings (``degraded``) and rebuild the index in a background thread;
3. embeddings but no index of this kind -> build it from them, in the same layout;
4. nothing stored -> store the serving bundle's own item vectors, then build;
5. no vectors anywhere -> no index; the server answers from ``model.similar_items``.

This runs at start and again, in the background, after every model swap (deploy,
rollback, the champion watcher). The index is attached to the ModelServer for its
version only, so a just-swapped version is answered by its model until it is ready.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gbrec_core.errors import GbrecError, IndexLoadError, InvalidInputError, UnavailableError
from gbrec_core.index import (
    EMBEDDINGS_DIR,
    StoredEmbeddings,
    build_shard_set,
    load_embeddings,
    load_index,
    make_index,
    read_shard_set,
    save_embeddings,
)
from gbrec_core.index.factory import SHARD_SET
from gbrec_core.serving.embedding_search import EmbeddingSearch
from gbrec_core.serving.index_info import DEGRADED, HEALTHY, IndexBuildInfo, VectorIndexStatus
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.types import FALLBACK_VERSION
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


class IndexManager:
    def __init__(self, settings: Settings, server: ModelServer) -> None:
        self.settings = settings
        self.server = server
        self.index: EmbeddingSearch | None = None
        self.info: IndexBuildInfo | None = None
        self.last_error: str | None = None
        # One build or install at a time; re-entrant because degrading schedules work.
        self._lock = threading.RLock()
        self._workers: list[threading.Thread] = []
        self._workers_lock = threading.Lock()
        self._closed = False
        #: Rebuild a broken index in the background by itself (else only on rebuild()).
        self.auto_rebuild = True
        server.add_swap_listener(self._on_swap)

    def version_dir(self, version: str) -> Path:
        return self.settings.index_dir / version

    def path(self, version: str) -> Path:
        return self.version_dir(version) / self.settings.index_kind

    # ---- public ---------------------------------------------------------------------------------
    def ensure(self) -> IndexBuildInfo | None:
        """At start: open (or build) the serving version's index; None if there is none."""
        try:
            return self._activate(self._serving())
        except GbrecError as e:
            self.last_error = str(e)
            log.warning("no vector index at start (%s); similarBooks uses the model", e)
            return None

    def rebuild(self) -> IndexBuildInfo:
        """Rebuild the serving version's index from its stored embeddings (or the bundle's)."""
        with self._lock:
            version = self._serving()
            return self._build(version, self._stored(version) or self._from_bundle(version))

    @property
    def rebuilding(self) -> bool:
        return any(w.is_alive() for w in self._workers)

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Wait for background loads/rebuilds (and what they start); True when none runs."""
        deadline = time.monotonic() + timeout
        while True:
            with self._workers_lock:
                alive = [w for w in self._workers if w.is_alive()]
                self._workers = alive
            left = deadline - time.monotonic()
            if not alive or left <= 0:
                return not alive
            alive[0].join(left)

    def stats(self) -> dict[str, Any]:
        search, info = self.index, self.info
        if search is None or info is None:
            if self.last_error is None:
                return {}
            return {"healthy": False, "rebuilding": self.rebuilding, "error": self.last_error}
        return {
            **search.stats(),
            "healthy": info.state == HEALTHY,
            "state": info.state,
            "model_version": info.version,
            "vector_source": info.vector_source,
            "built_by": info.built_by,
            "error": info.error,
            "rebuilding": self.rebuilding,
        }

    def status(self) -> VectorIndexStatus:
        """What a client sees of the index (``vectorIndex`` in the API)."""
        return VectorIndexStatus.of(self.settings.vector_backend, self.stats(), self.info)

    def close(self) -> None:
        self._closed = True
        self.wait_idle(30.0)
        if self.index is not None:
            self.index.close()

    # ---- the decision (module docstring) -----------------------------------------------------
    def _activate(self, version: str) -> IndexBuildInfo:
        with self._lock:
            stored = self._stored(version)
            if stored is not None and _has_index(self.path(version)):
                return self._open(version, stored)
            return self._build(version, stored or self._from_bundle(version))

    def _open(self, version: str, stored: StoredEmbeddings) -> IndexBuildInfo:
        started = time.perf_counter()
        path = self.path(version)
        try:
            index = load_index(path)
            built_from = getattr(index, "meta", {}).get("fingerprint")
            if built_from not in (None, stored.fingerprint):
                index.close()
                raise IndexLoadError(f"{path} was built from other vectors than the stored ones")
        except IndexLoadError as e:
            return self._degrade(version, stored, e)
        search = EmbeddingSearch(index, stored)
        return self._install(search, version, time.perf_counter() - started, from_disk=True)

    def _degrade(self, version: str, stored: StoredEmbeddings, error: Exception) -> IndexBuildInfo:
        log.error(
            "vector index of v%s is unusable (%s): similarBooks uses exact search over the "
            "%d stored vectors until it is rebuilt%s",
            version,
            error,
            len(stored),
            " (rebuilding in the background)" if self.auto_rebuild else "",
        )
        started = time.perf_counter()
        exact = make_index("exact", dim=int(stored.vectors.shape[1]), metric="ip")
        exact.add(stored.book_ids, stored.vectors)
        info = self._install(
            EmbeddingSearch(exact, stored),
            version,
            time.perf_counter() - started,
            from_disk=False,
            state=DEGRADED,
            error=str(error),
        )
        if self.auto_rebuild:
            self._spawn(self._rebuild_in_background, version, stored)
        return info

    def _rebuild_in_background(self, version: str, stored: StoredEmbeddings) -> None:
        with self._lock:
            if self._closed or self.server.serving_version().version != version:
                return  # the version was swapped out; its successor has its own refresh
            try:
                self._build(version, stored)
            except GbrecError as e:
                self.last_error = f"background rebuild failed: {e}"
                log.exception("background rebuild of the v%s index failed", version)

    def _build(self, version: str, stored: StoredEmbeddings) -> IndexBuildInfo:
        started = time.perf_counter()
        meta = {
            "model_version": stored.model_version or version,
            "source": stored.source or f"v{version}",
            "fingerprint": stored.fingerprint,
            "built_by": "api",
        }
        index = build_shard_set(
            self.path(version),
            self.settings.index_kind,
            stored.book_ids,
            stored.vectors,
            shards=self._shard_count(version),
            meta=meta,
        )
        search = EmbeddingSearch(index, stored)
        return self._install(search, version, time.perf_counter() - started, from_disk=False)

    # ---- helpers ------------------------------------------------------------------------------
    def _shard_count(self, version: str) -> int:
        """Keep the pipeline's partitioning (one Dagster partition per shard) when known."""
        for folder in (self.path(version), self.version_dir(version) / EMBEDDINGS_DIR):
            try:
                return int(read_shard_set(folder)["shards"])
            except IndexLoadError:
                continue
        return self.settings.index_shards

    def _stored(self, version: str) -> StoredEmbeddings | None:
        folder = self.version_dir(version) / EMBEDDINGS_DIR
        if not (folder / SHARD_SET).is_file():
            return None
        try:
            return load_embeddings(folder)
        except IndexLoadError as e:
            self.last_error = str(e)
            log.error("stored embeddings of v%s are unusable (%s); using the bundle's", version, e)
            return None

    def _from_bundle(self, version: str) -> StoredEmbeddings:
        vectors = self.server.ensure_loaded(version).bundle.item_vectors
        if vectors is None:
            raise InvalidInputError(
                f"model v{version} has no item vectors and the pipeline stored none "
                f"under {self.version_dir(version) / EMBEDDINGS_DIR}"
            )
        folder = self.version_dir(version) / EMBEDDINGS_DIR
        meta = {"model_version": version, "source": f"v{version}", "built_by": "api"}
        save_embeddings(
            folder, vectors.book_ids, vectors.vectors, shards=self.settings.index_shards, meta=meta
        )
        return load_embeddings(folder)

    def _install(
        self,
        search: EmbeddingSearch,
        version: str,
        seconds: float,
        *,
        from_disk: bool,
        state: str = HEALTHY,
        error: str | None = None,
    ) -> IndexBuildInfo:
        stats = search.stats()
        meta = stats.get("meta") or {}
        old, self.index = self.index, search
        self.server.attach_index(search, version)
        if old is not None and old is not search:
            old.close()
        self.info = IndexBuildInfo(
            version=version,
            kind=str(stats.get("kind")),
            shards=int(stats.get("shards", 1)),
            vectors=len(search),
            dim=int(stats["dim"]),
            seconds=seconds,
            loaded_from_disk=from_disk,
            path=self.path(version),
            at=datetime.now(UTC),
            vector_source=search.embeddings.source,
            built_by=str(meta.get("built_by", "pipeline")),
            state=state,
            error=error,
        )
        self.last_error = error
        log.info(
            "vector index for v%s %s in %.2fs (%s, %s)",
            version,
            "loaded" if from_disk else "built",
            seconds,
            self.info.kind,
            state,
        )
        return self.info

    def _serving(self) -> str:
        version = self.server.serving_version().version
        if version == FALLBACK_VERSION:
            raise UnavailableError("no model is loaded, so there are no item vectors to index")
        return version

    def _on_swap(self, version: str) -> None:
        if not self._closed:
            self._spawn(self._refresh, version)

    def _refresh(self, version: str) -> None:
        with self._lock:
            if self._closed or self.server.serving_version().version != version:
                return  # another swap followed; its own refresh handles it
            try:
                self._activate(version)
            except GbrecError as e:
                self.last_error = str(e)
                log.warning("no vector index for v%s (%s); similarBooks uses the model", version, e)
                old, self.index, self.info = self.index, None, None
                self.server.attach_index(None, version)
                if old is not None:
                    old.close()

    def _spawn(self, target: Any, *args: Any) -> None:
        worker = threading.Thread(target=target, args=args, name="gbrec-index", daemon=True)
        with self._workers_lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            self._workers.append(worker)
            worker.start()


def _has_index(path: Path) -> bool:
    return (path / SHARD_SET).is_file() or (path / "manifest.json").is_file()
