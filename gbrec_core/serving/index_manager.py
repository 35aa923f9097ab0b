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

Every folder is signed and verified (``index_files``): a folder whose signature is
missing or wrong is refused (``SignatureError``, counted as ``signature_failures``);
if it belongs to the version already being served, the index in memory keeps
serving, otherwise the version degrades as in 2 and the rebuild replaces the folder.
With ``GBREC_VECTOR_BACKEND=milvus`` the searches go to the version's Milvus
collection, with the local index as the counted fallback (``milvus_search``).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from gbrec_core.errors import (
    GbrecError,
    IndexLoadError,
    InvalidInputError,
    SignatureError,
    UnavailableError,
)
from gbrec_core.index import EMBEDDINGS_DIR, StoredEmbeddings, make_index
from gbrec_core.serving import milvus_provision
from gbrec_core.serving.embedding_search import EmbeddingSearch
from gbrec_core.serving.index_files import IndexFiles
from gbrec_core.serving.index_info import (
    DEGRADED,
    HEALTHY,
    IndexBuildInfo,
    VectorIndexStatus,
    serving_stats,
)
from gbrec_core.serving.milvus_search import MilvusSearch
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.types import FALLBACK_VERSION
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)


class IndexManager:
    def __init__(self, settings: Settings, server: ModelServer) -> None:
        self.settings = settings
        self.server = server
        self.files = IndexFiles(settings)
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
        self._milvus_uri: str | None = None
        server.add_swap_listener(self._on_swap)

    def path(self, version: str) -> Path:
        return self.files.path(version)

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
            stored = self.files.stored(version) or self._from_bundle(version)
            return self._build(version, stored)

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
        extra = {"signature_failures": self.files.signature_failures, "rebuilding": self.rebuilding}
        if search is None or info is None:
            if self.last_error is None:
                return {"signature_failures": self.files.signature_failures}
            return {"healthy": False, "error": self.last_error, **extra}
        return {**serving_stats(search.stats(), info), **extra}

    def status(self) -> VectorIndexStatus:
        """What a client sees of the index (``vectorIndex`` in the API)."""
        return VectorIndexStatus.of(self.settings.vector_backend, self.stats(), self.info)

    def close(self) -> None:
        self._closed = True
        self.wait_idle(30.0)
        if self.index is not None:
            self.index.close()
        if self._milvus_uri is not None:
            milvus_provision.release_private(self._milvus_uri)

    # ---- the decision (module docstring) -----------------------------------------------------
    def _activate(self, version: str) -> IndexBuildInfo:
        with self._lock:
            stored = self.files.stored(version)
            if stored is not None and self.files.has_index(version):
                return self._open(version, stored)
            return self._build(version, stored or self._from_bundle(version))

    def _open(self, version: str, stored: StoredEmbeddings) -> IndexBuildInfo:
        started = time.perf_counter()
        try:
            index = self.files.open(version, stored)
        except SignatureError as e:
            if self._serving_healthy(version):
                self.last_error = str(e)
                assert self.info is not None
                return self.info  # the verified index in memory keeps serving
            return self._degrade(version, stored, e)
        except IndexLoadError as e:
            return self._degrade(version, stored, e)
        search = EmbeddingSearch(index, stored)
        return self._install(search, version, time.perf_counter() - started, from_disk=True)

    def _serving_healthy(self, version: str) -> bool:
        info = self.info
        return (
            self.index is not None
            and info is not None
            and info.version == version
            and (info.state == HEALTHY)
        )

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
        search = EmbeddingSearch(self.files.build(version, stored), stored)
        return self._install(search, version, time.perf_counter() - started, from_disk=False)

    # ---- helpers ------------------------------------------------------------------------------
    def _with_backend(self, search: EmbeddingSearch, version: str) -> EmbeddingSearch:
        """The Milvus-first search when ``GBREC_VECTOR_BACKEND=milvus``, else ``search``."""
        if self.settings.vector_backend != "milvus":
            return search
        if self._milvus_uri is None:
            self._milvus_uri = milvus_provision.serving_uri(self.settings)
        uri, stored = self._milvus_uri, search.embeddings
        private = not milvus_provision.is_server(uri)
        return MilvusSearch(
            lambda: milvus_provision.provision(uri, version, stored), search, retire=private
        ).start()

    def _from_bundle(self, version: str) -> StoredEmbeddings:
        vectors = self.server.ensure_loaded(version).bundle.item_vectors
        if vectors is None:
            raise InvalidInputError(
                f"model v{version} has no item vectors and the pipeline stored none "
                f"under {self.files.version_dir(version) / EMBEDDINGS_DIR}"
            )
        return self.files.store(version, vectors.book_ids, vectors.vectors)

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
        search = self._with_backend(search, version)
        old, self.index = self.index, search
        self.server.attach_index(search, version)
        if isinstance(old, MilvusSearch) and self.info is not None:
            old.retire = old.retire and self.info.version != version  # same collection: keep
        if old is not None and old is not search:
            old.close()
        self.info = IndexBuildInfo.of(
            search.stats(),
            len(search),
            version=version,
            seconds=seconds,
            loaded_from_disk=from_disk,
            path=self.path(version),
            vector_source=search.embeddings.source,
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
