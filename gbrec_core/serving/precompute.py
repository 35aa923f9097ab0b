"""Precomputed top-N lists: every known user's ranking of a loaded version, in memory.

Scoring one user costs ~100 µs (ALS on a small catalogue) to milliseconds (the hybrid
at GoodBooks scale), and the answer only changes when the version does. So once a
version is loaded, a background thread ranks all of its users in batches (the model's
own ``recommend``: the same scores, the same exclusion of already-read books) to a
depth of ``GBREC_PRECOMPUTE_DEPTH``, and requests for up to that many books become a
row slice. Until a table is ready, and for unknown users, deeper lists or models too big
for ``GBREC_PRECOMPUTE_MAX_BYTES``, the model answers directly as before.

Batched scoring may differ from one-user scoring in the last bits of a float (a
matrix product instead of a vector one), so the two agree on the ranking except among
books whose scores are equal to ~1e-6. The worker uses one BLAS thread: it shares the
machine with request handling and must not starve it.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from gbrec_core.models.base import IdMap, Recommender

log = logging.getLogger(__name__)
BATCH_USERS = 4096


@dataclasses.dataclass(frozen=True)
class TopNTable:
    """``ids[row, :k]`` / ``scores[row, :k]``: the top-k of the user at ``row``."""

    version: str
    users: IdMap
    ids: np.ndarray  # (n_users, depth) int32, -1 pads short lists
    scores: np.ndarray  # (n_users, depth) float32
    seconds: float

    @property
    def depth(self) -> int:
        return int(self.ids.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.scores.nbytes)

    def lookup(self, user_id: int, k: int) -> tuple[list[int], list[float]] | None:
        """The user's top-``k``, or None when the table cannot answer (unknown user,
        ``k`` deeper than the table)."""
        if k > self.ids.shape[1]:
            return None
        row = self.users.position(user_id)
        if row < 0:
            return None
        ids: list[int] = self.ids[row, :k].tolist()
        scores: list[float] = self.scores[row, :k].tolist()
        if ids and ids[-1] < 0:  # fewer unread books than k: drop the -1 padding
            keep = [i for i, book in enumerate(ids) if book >= 0]
            ids, scores = [ids[i] for i in keep], [scores[i] for i in keep]
        return ids, scores


def build_table(version: str, model: Recommender, depth: int) -> TopNTable:
    """Rank every user of ``model`` to ``depth`` (one BLAS thread, batch by batch)."""
    users = model.users
    if users is None:
        raise ValueError("the model is not fitted")
    started = time.perf_counter()
    n = len(users)
    ids = np.empty((n, depth), dtype=np.int32)
    scores = np.empty((n, depth), dtype=np.float32)
    with threadpool_limits(1, "blas"):
        for start in range(0, n, BATCH_USERS):
            rows = slice(start, min(start + BATCH_USERS, n))
            top, top_scores = model.recommend(users.ids[rows], k=depth)
            ids[rows] = top
            scores[rows] = top_scores
    return TopNTable(version, users, ids, scores, time.perf_counter() - started)


def build_chunk(version: str, model: Recommender, depth: int, user_id: int) -> TopNTable | None:
    """The rows of :func:`build_table` for ``user_id``'s batch, computed exactly as there
    (same batch, one BLAS thread), so a one-off caller gets the bit-identical list a
    serving process answers from its full table; None for an unknown user."""
    users = model.users
    row = -1 if users is None else users.position(user_id)
    if users is None or row < 0:
        return None
    started = time.perf_counter()
    start = row - row % BATCH_USERS
    batch = users.ids[start : start + BATCH_USERS]
    with threadpool_limits(1, "blas"):
        top, top_scores = model.recommend(batch, k=depth)
    ids, scores = top.astype(np.int32), top_scores.astype(np.float32)
    return TopNTable(version, IdMap(batch), ids, scores, time.perf_counter() - started)


def table_bytes(model: Recommender, depth: int) -> int:
    """What :func:`build_table` would hold in memory for ``model``."""
    return 0 if model.users is None else len(model.users) * depth * 8


class Precomputer:
    """One background thread building :class:`TopNTable` s for submitted versions."""

    def __init__(self, depth: int, max_bytes: int, *, on_demand: bool = False) -> None:
        self.depth = depth
        self.max_bytes = max_bytes
        #: Instead of whole tables in the background, the asked user's batch on demand
        #: (one-off processes such as ``gbrec recommend``: the same lists, no table build).
        self.on_demand = on_demand
        self._tables: dict[str, TopNTable] = {}
        self._chunks: dict[tuple[str, int], TopNTable | None] = {}
        self._queued: set[str] = set()
        self._queue: queue.Queue[tuple[str, Recommender] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failures = 0
        self._skipped: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.depth > 0

    def get(self, version: str) -> TopNTable | None:
        return self._tables.get(version)

    def table_for(self, version: str, model: Recommender, user_id: int) -> TopNTable | None:
        """The table that answers ``user_id`` for ``version``, if any (see on_demand)."""
        table = self._tables.get(version)
        if table is not None or not self.on_demand or not self._fits(model):
            return table
        key = (version, user_id)
        if key not in self._chunks:
            self._chunks[key] = build_chunk(version, model, self.depth, user_id)
        return self._chunks[key]

    def _fits(self, model: Recommender) -> bool:
        return self.enabled and table_bytes(model, self.depth) <= self.max_bytes

    def submit(self, version: str, model: Recommender) -> None:
        """Build ``version``'s table in the background, unless done, queued or too big."""
        if not self.enabled or self.on_demand:
            return
        needed = table_bytes(model, self.depth)
        with self._lock:
            if version in self._tables or version in self._queued:
                return
            if needed > self.max_bytes:
                self._skipped[version] = f"needs {needed} bytes > {self.max_bytes}"
                return
            self._queued.add(version)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="gbrec-precompute", daemon=True
                )
                self._thread.start()
        self._queue.put((version, model))

    def retain(self, versions: Iterable[str]) -> None:
        """Forget the tables of every version not in ``versions`` (evicted ones)."""
        keep = set(versions)
        with self._lock:
            for version in [v for v in self._tables if v not in keep]:
                del self._tables[version]

    def wait(self, version: str, timeout: float) -> TopNTable | None:
        """The table of ``version`` once built (None after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            table = self._tables.get(version)
            if table is not None or not self._pending(version):
                return table
            time.sleep(0.01)
        return self._tables.get(version)

    def stop(self) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)
            self._thread = None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            tables = dict(self._tables)
            queued = sorted(self._queued)
            skipped = dict(self._skipped)
        return {
            "depth": self.depth,
            "tables": {
                v: {"users": len(t.users), "bytes": t.nbytes, "seconds": round(t.seconds, 3)}
                for v, t in tables.items()
            },
            "queued": queued,
            "skipped": skipped,
            "failures": self._failures,
        }

    def _pending(self, version: str) -> bool:
        with self._lock:
            return version in self._queued

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            version, model = item
            try:
                table = build_table(version, model, self.depth)
            except Exception:  # serving goes on with the model itself
                log.exception("precomputing v%s failed", version)
                with self._lock:
                    self._failures += 1
                    self._queued.discard(version)
                continue
            with self._lock:
                self._tables[version] = table
                self._queued.discard(version)
            log.info(
                "v%s: top-%d of %d users precomputed in %.1f s (%.0f MB)",
                version,
                self.depth,
                len(table.users),
                table.seconds,
                table.nbytes / 1e6,
            )
