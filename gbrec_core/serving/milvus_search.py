"""similarBooks through Milvus, with the local index files as a counted fallback.

With ``GBREC_VECTOR_BACKEND=milvus`` the index manager wraps the version's Milvus
collection and its local shard set (the same signed embeddings) in a
:class:`MilvusSearch`. Every search goes to Milvus; when Milvus cannot answer (server
stopped, timeout, collection gone) the local index answers instead, the failure is
counted (``fallbacks``, exported as ``gbrec_index_backend_fallbacks``) and logged, and
``vectorIndex`` reports the index as degraded with Milvus's error. For
``retry_seconds`` after a failure requests go straight to the local files (no timeout
per request); then the next search starts a background reconnect (which reloads the
collection, or refills it from the embeddings if the engine lost it) and Milvus
answers again once that succeeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gbrec_core.errors import GbrecError, UnavailableError
from gbrec_core.index import MilvusIndex
from gbrec_core.serving.embedding_search import EmbeddingSearch

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


class MilvusSearch(EmbeddingSearch):
    """Milvus first, the local index when Milvus is unavailable; both over one vector set.

    ``provision`` opens (or creates and fills) the version's collection; it runs once
    in :meth:`start` and, after a failure, again in the background once the retry
    interval has passed. ``retire`` drops the collection on :meth:`close` (for a
    collection private to this process).
    """

    def __init__(
        self,
        provision: Callable[[], MilvusIndex],
        local: EmbeddingSearch,
        *,
        retry_seconds: float = RETRY_SECONDS,
        retire: bool = False,
    ) -> None:
        super().__init__(local.index, local.embeddings)
        self.local = local
        self.milvus: MilvusIndex | None = None
        self.retry_seconds = retry_seconds
        self.retire = retire
        self.queries = 0
        self.fallbacks = 0
        self.last_error: str | None = None
        self._provision = provision
        self._provisioning = False
        self._down_until = 0.0
        self._lock = threading.Lock()

    def start(self) -> MilvusSearch:
        """Open the collection now (blocking); a failure is recorded, not raised."""
        self._open()
        return self

    def search(
        self, queries: np.ndarray, k: int, exclude: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        milvus, retry = self.milvus, time.monotonic() >= self._down_until
        if milvus is not None and retry:
            try:
                found = milvus.search(queries, k, exclude)
            except UnavailableError as e:
                self._failed(e)
                self._forget(milvus)
            else:
                self._answered()
                return found
        elif milvus is None and retry:
            self._reopen_in_background()
        with self._lock:
            self.fallbacks += 1
        return self.local.search(queries, k, exclude)

    @property
    def up(self) -> bool:
        """Whether Milvus answered the last request (False while falling back)."""
        return self.milvus is not None and self.last_error is None

    def _open(self) -> None:
        try:
            milvus = self._provision()
        except GbrecError as e:
            self._failed(e)
        else:
            self.milvus, self.last_error = milvus, None
        finally:
            self._provisioning = False

    def _forget(self, milvus: MilvusIndex) -> None:
        """After a failure the collection is provisioned again (reconnect, reload, refill
        if the engine lost it); an engine that kept it is only checked."""
        with self._lock:
            if self.milvus is milvus:
                self.milvus = None
        milvus.close()

    def _reopen_in_background(self) -> None:
        with self._lock:
            if self._provisioning:
                return
            self._provisioning = True
            self._down_until = time.monotonic() + self.retry_seconds
        threading.Thread(target=self._open, name="gbrec-milvus", daemon=True).start()

    def _answered(self) -> None:
        with self._lock:
            self.queries += 1
            recovered, self.last_error = self.last_error is not None, None
        if recovered:
            log.warning("Milvus answers again; similarBooks is served from Milvus")

    def _failed(self, error: Exception) -> None:
        with self._lock:
            first = self.last_error is None
            self.last_error = f"Milvus unavailable, answering from local files: {error}"
            self._down_until = time.monotonic() + self.retry_seconds
        # Once per outage at ERROR (each fallback is counted); retries at DEBUG.
        (log.error if first else log.debug)("similarBooks falls back to local files: %s", error)

    def stats(self) -> dict[str, Any]:
        """The local index's stats, with Milvus's latency, health and counters on top."""
        milvus, retry = self.milvus, time.monotonic() >= self._down_until
        probe = milvus.probe() if milvus is not None and retry else None
        remote = milvus.stats() if milvus is not None and probe is not None else {}
        return {
            **self.local.stats(),
            **{k: remote[k] for k in ("latency", "searches", "uri", "collection") if k in remote},
            "backend_healthy": probe is not None and self.last_error is None,
            "backend_latency_ms": probe,
            "backend_queries": self.queries,
            "backend_fallbacks": self.fallbacks,
            "backend_error": self.last_error
            or (None if probe is not None else "Milvus does not answer"),
        }

    def close(self) -> None:
        milvus, self.milvus = self.milvus, None
        if milvus is not None:
            if self.retire:
                _drop_quietly(milvus)
            milvus.close()
        self.local.close()


def _drop_quietly(milvus: MilvusIndex) -> None:
    try:
        milvus.drop()
    except Exception as e:  # retiring is best effort; the private folder goes at exit
        log.warning("could not drop retired Milvus collection %s: %s", milvus.config.collection, e)
