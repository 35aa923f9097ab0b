"""ModelServer: the live champion plus cached versions, hot-swapped without downtime.

Requests read ``self._live`` once and use that object to the end, so an in-flight
request finishes on the version it started with; a swap is one reference assignment
(atomic under the GIL) made only after the new version was loaded, checksum-verified
and smoke-tested off to the side. Loads and swaps are serialised by one lock that
requests never take.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from gbrec_core.errors import (
    InvalidInputError,
    ModelLoadError,
    NotFoundError,
    RegistryError,
    SignatureError,
    UnavailableError,
)
from gbrec_core.registry import CHAMPION, Deployment, ModelRegistry, ModelVersionInfo
from gbrec_core.serving import ranking
from gbrec_core.serving.cache import VersionCache
from gbrec_core.serving.disk_cache import DiskCache
from gbrec_core.serving.fallback import PopularityFallback
from gbrec_core.serving.filters import BookMask
from gbrec_core.serving.loader import LoadedVersion, VersionLoader
from gbrec_core.serving.precompute import Precomputer
from gbrec_core.serving.ranking import ListQuery
from gbrec_core.serving.similar import VectorSearch, similar_books
from gbrec_core.serving.types import FALLBACK_VERSION, Recommendation
from gbrec_core.serving.watcher import Watcher
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)
_LOAD_ERRORS = (ModelLoadError, SignatureError, UnavailableError, NotFoundError, RegistryError)


class ModelServer:
    """Thread-safe recommend/similar over the registry's champion (see module docstring)."""

    #: arecommend runs inline below this recent recommend CPU time; 0 always uses a thread.
    inline_max_seconds: float = 0.0005

    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        index: VectorSearch | None = None,
        *,
        books: pd.DataFrame | None = None,
        index_version: str | None = None,
        precompute_on_demand: bool = False,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.disk = DiskCache(
            settings.resolved_home / "serving" / settings.model_name, registry.signer
        )
        self.loader = VersionLoader(registry, self.disk)
        self.cache = VersionCache(settings.model_cache_size, settings.model_cache_max_bytes)
        self.precomputed = Precomputer(
            settings.precompute_depth,
            settings.precompute_max_bytes,
            on_demand=precompute_on_demand,
        )
        self._index, self._index_version = index, index_version
        self._books_fallback = None if books is None else PopularityFallback.from_books(books)
        self._live: LoadedVersion | None = None
        self._swap_lock = threading.RLock()
        self._stats_lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._counters: Counter[str] = Counter()
        self._last_error: str | None = None
        self._history: deque[tuple[float, str]] = deque(maxlen=1000)
        # Recent recommend() seconds per version (EWMA); see arecommend.
        self._cost: dict[str, float] = {}
        self._watcher: Watcher | None = None
        self._swap_listeners: list[Callable[[str], None]] = []

    # ---- lifecycle -------------------------------------------------------------------------------
    def start(self, watch: bool = True) -> None:
        """Load the champion (registry, else the disk cache), then start the watcher."""
        try:
            self._swap_to(CHAMPION)
        except _LOAD_ERRORS as e:
            log.warning("no champion could be loaded at start (%s); serving popularity", e)
        if watch and self._watcher is None:
            self._watcher = Watcher(
                self.settings.model_watch_interval, self.refresh, name="gbrec-model-watcher"
            )
            self._watcher.start()

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop(timeout=self.settings.model_watch_interval + 5)
            self._watcher = None
        self.precomputed.stop()

    def __enter__(self) -> ModelServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def refresh(self) -> bool:
        """Check the champion alias now; swap when it moved. True when a swap happened."""
        try:
            target = self.registry.champion_version()
        except UnavailableError as e:
            self._count("watch_failures")
            log.warning("champion poll failed, keeping v%s: %s", self._live_version(), e)
            return False
        if target is None or target == self._live_version():
            return False
        try:
            self._swap_to(target)
        except _LOAD_ERRORS:
            return False  # already counted and logged by _swap_to
        return True

    # ---- requests --------------------------------------------------------------------------------
    def recommend(
        self,
        user_id: int,
        k: int = 10,
        version: str | None = None,
        query: ListQuery | None = None,
    ) -> Recommendation:
        """Top-``k`` unread books; ``query`` filters them or seeds a new reader."""
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}")
        live = self._live if version is None else self.ensure_loaded(version)
        if live is None:
            return self._fallback_answer(user_id, k, query or ListQuery())
        if query is not None and (query.allowed is not None or not self._knows(live, user_id)):
            return self._shaped(live, user_id, k, query)  # seeds count for new readers only
        table = self.precomputed.table_for(live.version, live.bundle.model, user_id)
        hit = None if table is None else table.lookup(user_id, k)
        if hit is not None:
            self._count_request(live.version)
            return Recommendation(int(user_id), live.version, False, hit[0], hit[1])
        return self._score(live, user_id, k)

    @staticmethod
    def _knows(live: LoadedVersion, user_id: int) -> bool:
        users = live.bundle.model.users
        return users is not None and users.position(int(user_id)) >= 0

    def _shaped(
        self, live: LoadedVersion, user_id: int, k: int, query: ListQuery
    ) -> Recommendation:
        """A filtered list, or a seeded one for a user the model does not know."""
        model, bundle = live.bundle.model, live.bundle
        assert model.users is not None
        self._count_request(live.version)
        if model.users.position(int(user_id)) < 0:
            if query.seeds:
                ids, scores = ranking.seeded(bundle, query.seeds, k, query.allowed)
                return Recommendation(int(user_id), live.version, False, ids, scores)
            ids, scores = ranking.popular(bundle.fallback_ids, bundle.fallback_scores, k, query)
            return Recommendation(int(user_id), live.version, True, ids, scores)
        assert query.allowed is not None
        table = self.precomputed.table_for(live.version, model, user_id)
        found = ranking.from_table(table, user_id, k, query.allowed)
        if found is None:
            found = ranking.scored(bundle, user_id, k, query.allowed)
        return Recommendation(int(user_id), live.version, False, *found)

    def _score(self, live: LoadedVersion, user_id: int, k: int) -> Recommendation:
        """The model's own answer (no precomputed list), timed for :meth:`arecommend`."""
        # CPU time of this thread: preemption on a busy machine must not inflate it.
        started = time.thread_time()
        model = live.bundle.model
        assert model.users is not None
        if model.users.position(int(user_id)) < 0:
            ids, scores = live.bundle.fallback_ids[:k], live.bundle.fallback_scores[:k]
            fallback = True
        else:
            top, top_scores = model.recommend(np.array([user_id], dtype=np.int64), k=k)
            keep = top[0] >= 0
            ids, scores, fallback = top[0][keep], top_scores[0][keep], False
        self._count_request(live.version)
        # A racy read-modify-write is fine: this is an estimate, not a counter.
        cost = time.thread_time() - started
        self._cost[live.version] = 0.8 * self._cost.get(live.version, cost) + 0.2 * cost
        return Recommendation(
            user_id=int(user_id),
            version=live.version,
            fallback=fallback,
            book_ids=[int(i) for i in ids],
            scores=[float(s) for s in scores],
        )

    async def arecommend(
        self,
        user_id: int,
        k: int = 10,
        version: str | None = None,
        query: ListQuery | None = None,
    ) -> Recommendation:
        """:meth:`recommend` in a worker thread, so the event loop never blocks on numpy.

        Except when the resident version has a precomputed list deep enough, or its
        recent calls took under :attr:`inline_max_seconds` of CPU: then the thread hop
        (a queue, a wake-up, a GIL hand-off: ~100 µs of CPU) costs more than the work,
        which holds the GIL anyway, so it runs inline. Unknown or slow versions, and
        versions that may need loading, always go to a thread.
        """
        if (query is None or (query.allowed is not None and not query.seeds)) and self._cheap(
            version, k
        ):
            return self.recommend(user_id, k, version, query)
        return await asyncio.to_thread(self.recommend, user_id, k, version, query)

    def _cheap(self, version: str | None, k: int) -> bool:
        live = self._live
        if version is None or version == CHAMPION:
            key = None if live is None else live.version
        else:
            key = version if version in self.cache.versions() else None
        if key is None:
            return False
        table = self.precomputed.get(key)
        if table is not None and k <= table.depth:
            return True
        cost = self._cost.get(key)
        return cost is not None and cost < self.inline_max_seconds

    def similar(
        self, book_id: int, k: int = 10, allowed: BookMask | None = None
    ) -> list[tuple[int, float]]:
        """Books most similar to ``book_id`` under the live model (index when attached)."""
        if k < 1:
            raise InvalidInputError(f"k must be >= 1, got {k}")
        live = self._live
        if live is None:
            raise UnavailableError("no model is loaded; similar books need one")
        use_index = self._index if self._index_version in (None, live.version) else None
        if allowed is not None:
            return ranking.similar_allowed(live.bundle, book_id, k, use_index, allowed)
        return similar_books(live.bundle, book_id, k, use_index)

    async def asimilar(self, book_id: int, k: int = 10) -> list[tuple[int, float]]:
        return await asyncio.to_thread(self.similar, book_id, k)

    def attach_index(self, index: VectorSearch | None, version: str | None = None) -> None:
        """Use ``index`` for :meth:`similar` (only while ``version`` serves, when given)."""
        self._index, self._index_version = index, version

    def add_swap_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(version)`` after each swap to another version (deploy, rollback,
        watcher). It runs in the swapping thread under the swap lock: keep it short."""
        self._swap_listeners.append(listener)

    # ---- deployments -----------------------------------------------------------------------------
    def deploy(self, version: str) -> Deployment:
        """Load and warm ``version``, force it champion in the registry, then swap it in."""
        with self._swap_lock:
            loaded = self.ensure_loaded(version)
            deployment = self.registry.promote(loaded.version, force=True)
            self._install(loaded)
        return deployment

    def rollback(self) -> Deployment:
        """Restore the previous champion in the registry and here, immediately."""
        with self._swap_lock:
            previous = self.registry.previous_champion()
            if previous is None:
                raise NotFoundError(f"{self.registry.name} has no previous champion")
            loaded = self.ensure_loaded(previous)
            deployment = self.registry.rollback()
            if deployment.version != loaded.version:  # history moved under us
                loaded = self.ensure_loaded(deployment.version)
            self._install(loaded)
        return deployment

    def ensure_version(self, version_or_alias: str) -> ModelVersionInfo:
        """Make a version (e.g. an experiment arm) resident; returns its info."""
        return self.ensure_loaded(version_or_alias).info

    def ensure_loaded(self, version_or_alias: str) -> LoadedVersion:
        live = self._live
        if version_or_alias == CHAMPION and live is not None:
            return live
        hit = self.cache.get(version_or_alias) if version_or_alias.isdigit() else None
        if hit is not None:
            return hit
        with self._swap_lock:
            version = self._resolve(version_or_alias)
            hit = self.cache.get(version)
            if hit is not None:
                return hit
            try:
                loaded = self.loader.load(version)
            except _LOAD_ERRORS as e:
                self._record_failure(version, e)
                raise
            self._cache(loaded, pinned=self._pinned())
            self.precomputed.submit(loaded.version, loaded.bundle.model)
            return loaded

    # ---- introspection ---------------------------------------------------------------------------
    def serving_version(self) -> ModelVersionInfo:
        live = self._live
        if live is None:
            return ModelVersionInfo(FALLBACK_VERSION, [], {}, datetime.now(UTC), None)
        return live.info

    def swap_history(self) -> list[tuple[float, str]]:
        """(time.monotonic() of the swap, version) for the last 1000 swaps."""
        return list(self._history)

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            counters = dict(self._counters)
            requests = dict(self._requests)
        return {
            "serving_version": self._live_version() or FALLBACK_VERSION,
            "swaps": counters.get("swaps", 0),
            "load_failures": counters.get("load_failures", 0),
            "signature_failures": counters.get("signature_failures", 0),
            "disk_cache_rejected": dict(self.disk.rejected),
            "watch_failures": counters.get("watch_failures", 0),
            "fallback_requests": counters.get("fallback_requests", 0),
            "requests_by_version": requests,
            "cached_versions": self.cache.versions(),
            "cache_bytes": self.cache.total_bytes(),
            "last_load_error": self._last_error,
            "precomputed": self.precomputed.stats(),
        }

    # ---- internals -------------------------------------------------------------------------------
    def _swap_to(self, version_or_alias: str) -> LoadedVersion:
        with self._swap_lock:
            loaded = self.ensure_loaded(version_or_alias)
            self._install(loaded)
            return loaded

    def _install(self, loaded: LoadedVersion) -> None:
        previous = self._live_version()
        self._live = loaded  # the swap: one reference assignment
        self._cache(loaded, pinned=frozenset({loaded.version}))
        if previous != loaded.version:
            self._history.append((time.monotonic(), loaded.version))
            self._count("swaps")
            log.info("serving v%s (was v%s)", loaded.version, previous)
        self.disk.set_champion(loaded.version)
        if previous != loaded.version:
            for listener in list(self._swap_listeners):
                try:
                    listener(loaded.version)
                except Exception:  # a listener must never undo a completed swap
                    log.exception("swap listener %r failed", listener)

    def _cache(self, loaded: LoadedVersion, pinned: frozenset[str]) -> None:
        """Keep ``loaded`` in memory; precomputed lists go with the versions evicted."""
        self.cache.put(loaded, pinned=pinned)
        self.precomputed.retain(self.cache.versions())

    def _resolve(self, version_or_alias: str) -> str:
        if version_or_alias.isdigit():
            return version_or_alias
        return self.loader.describe(version_or_alias).version

    def _fallback_answer(self, user_id: int, k: int, query: ListQuery) -> Recommendation:
        source = self._books_fallback or self._cached_fallback()
        if source is None:
            raise UnavailableError("no model loaded and no catalogue to fall back on")
        ids, scores = ranking.popular(source.book_ids, source.scores, k, query)
        self._count("fallback_requests")
        return Recommendation(int(user_id), FALLBACK_VERSION, True, ids, scores)

    def _cached_fallback(self) -> PopularityFallback | None:
        last = self.disk.champion()
        found = (
            None
            if last is None
            else PopularityFallback.from_bundle_dir(self.disk.path(last), self.registry.signer)
        )
        if found is not None:
            self._books_fallback = found  # read the file once
        return found

    def _record_failure(self, version: str, error: Exception) -> None:
        self._count("load_failures")
        if isinstance(error, SignatureError):
            self._count("signature_failures")
        self._last_error = f"v{version}: {error}"
        log.error("could not load v%s, keeping v%s: %s", version, self._live_version(), error)

    def _pinned(self) -> frozenset[str]:
        live = self._live
        return frozenset() if live is None else frozenset({live.version})

    def _live_version(self) -> str | None:
        live = self._live
        return None if live is None else live.version

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self._counters[name] += 1

    def _count_request(self, version: str) -> None:
        with self._stats_lock:
            self._requests[version] += 1
