"""The API side of online metrics: a served-response log and feedback attribution.

:meth:`OnlineMonitor.served` is on the request hot path (thousands of calls a second
per process): it appends a tuple to an in-memory deque and nothing else, no await, no
Redis. A background task (:meth:`OnlineMonitor.run`) writes the deque every
``FLUSH_SECONDS`` with one Lua call per 2,000 responses. While Redis is unreachable the
deque keeps at most ``capacity`` responses, dropping the oldest (counted in
``dropped``), so an outage costs monitoring data, never serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from gbrec_core.errors import UnavailableError
from gbrec_core.experiments.events import event_problem
from gbrec_core.experiments.types import Event, EventType
from gbrec_core.monitoring.keys import BUCKET_SECONDS, RETENTION_MARGIN_SECONDS
from gbrec_core.monitoring.store import Attribution, Feedback, OnlineStore, Served
from gbrec_core.serving.types import FALLBACK_VERSION
from gbrec_core.settings import Settings

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
FLUSH_CHUNK = 20_000  # responses taken off the buffer per store call (bounds a failed batch)
# The experiments' default: a rating of 4 or 5 is positive feedback on the book.
POSITIVE_RATING = 4.0
_now = time.time


def feedback_of(events: Iterable[Event]) -> list[Feedback]:
    """(request id, book) of each valid positive event: a CLICK, or a RATING >= 4, on a
    book of a served response. Impressions, satisfaction and untagged events carry no
    click-through signal."""
    out: list[Feedback] = []
    for e in events:
        if e.request_id is None or e.book_id is None or event_problem(e) is not None:
            continue
        if e.type is EventType.CLICK or (
            e.type is EventType.RATING and (e.value or 0.0) >= POSITIVE_RATING
        ):
            out.append((e.request_id, e.book_id))
    return out


class OnlineMonitor:
    """Records served responses and attributes feedback to them (one per API process)."""

    def __init__(self, store: OnlineStore, *, capacity: int, sample_rate: float = 1.0) -> None:
        self.store = store
        self.capacity = max(capacity, 1)
        self.sample_rate = sample_rate
        self._below = None if sample_rate >= 1.0 else int(sample_rate * 2**32)
        self._buffer: deque[Served] = deque()
        self._flush_lock = threading.Lock()
        self._feedback_lock = threading.Lock()  # attribute() runs in several threads at once
        self._down = False
        self._in_flight = 0  # responses a running flush has taken off the buffer
        self._moving = threading.Lock()  # makes buffer <-> in-flight moves atomic for stats()
        self.counts = dict.fromkeys(
            ("dropped", "recorded", "duplicates", "invalid", "flush_errors"), 0
        )
        self.feedback = Attribution()

    @classmethod
    def from_settings(cls, settings: Settings, client: Any) -> OnlineMonitor:
        span = (settings.online_window_hours + settings.online_reference_hours) * BUCKET_SECONDS
        retention = span + int(settings.online_settle_minutes * 60) + RETENTION_MARGIN_SECONDS
        store = OnlineStore(
            client,
            settings.model_name,
            ttl_seconds=settings.online_attribution_minutes * 60,
            retention_seconds=retention,
        )
        return cls(
            store, capacity=settings.online_buffer_size, sample_rate=settings.online_sample_rate
        )

    # the hot path ----------------------------------------------------------------------------
    def served(self, request_id: str, version: str, book_ids: list[int]) -> None:
        """Log one response served by ``version`` (the popularity fallback is skipped).

        A few hundred nanoseconds: the list is kept by reference (not copied), so the
        caller must not mutate it afterwards.
        """
        if version == FALLBACK_VERSION:
            return
        if self._below is not None and not self.sampled(request_id):
            return
        buffer = self._buffer
        if len(buffer) >= self.capacity:
            self._drop_oldest()
        buffer.append((request_id, version, book_ids, _now()))

    def served_at(self, request_id: str, version: str, book_ids: list[int], at: float) -> None:
        """:meth:`served` with an explicit serve time (epoch seconds): backfills, tests."""
        if version == FALLBACK_VERSION or not self.sampled(request_id):
            return
        if len(self._buffer) >= self.capacity:
            self._drop_oldest()
        self._buffer.append((request_id, version, book_ids, at))

    def sampled(self, request_id: str) -> bool:
        """Deterministic per request id, so attribution skips exactly the unsampled ones."""
        return self._below is None or zlib.crc32(request_id.encode()) < self._below

    def _drop_oldest(self) -> None:
        try:
            self._buffer.popleft()
        except IndexError:  # a flush emptied it meanwhile
            return
        self.counts["dropped"] += 1

    def __len__(self) -> int:
        return len(self._buffer)

    # writing -----------------------------------------------------------------------------------
    def flush(self) -> int:
        """Write what is buffered now; returns responses newly recorded.

        Blocking (run it in a thread). On a Redis error the batch goes back to the head
        of the buffer (trimmed to capacity, oldest dropped) and the error is raised.
        """
        with self._flush_lock:
            pending = len(self._buffer)
            recorded = 0
            while pending > 0:
                with self._moving:
                    batch = self._take(min(pending, FLUSH_CHUNK))
                    self._in_flight = len(batch)
                pending -= len(batch)
                try:
                    new, duplicates, invalid = self.store.write_served(batch)
                except UnavailableError:
                    self.counts["flush_errors"] += 1
                    with self._moving:
                        self._put_back(batch)
                        self._in_flight = 0
                    raise
                with self._moving:
                    self._in_flight = 0
                    self.counts["recorded"] += new
                recorded += new
                self.counts["duplicates"] += duplicates
                self.counts["invalid"] += invalid
            return recorded

    def _take(self, n: int) -> list[Served]:
        batch: list[Served] = []
        popleft = self._buffer.popleft
        try:
            for _ in range(n):
                batch.append(popleft())
        except IndexError:
            pass
        return batch

    def _put_back(self, batch: Sequence[Served]) -> None:
        self._buffer.extendleft(reversed(batch))
        while len(self._buffer) > self.capacity:
            self._drop_oldest()

    # feedback ----------------------------------------------------------------------------------
    def attribute(self, events: Iterable[Event]) -> Attribution:
        """Count the positive events of ``events`` against the responses they answer.

        Blocking. A request unknown to Redis may still sit in this process's buffer (a
        client can click before the next flush): those are flushed and tried once more.
        """
        feedback = feedback_of(events)
        sampled = [f for f in feedback if self.sampled(f[0])]
        result = Attribution(unsampled=len(feedback) - len(sampled))
        if sampled:
            done, missing = self.store.attribute(sampled)
            if missing and self._buffer:
                self.flush()
                again, _ = self.store.attribute(missing)
                # ``again`` recounts the retried feedback, unknown ones included.
                done = done + again + Attribution(unknown=-len(missing))
            result = result + done
        with self._feedback_lock:
            self.feedback = self.feedback + result
        return result

    def forget(self, request_ids: Iterable[str]) -> int:
        """Erase the served records of ``request_ids`` (a user's erasure); returns how
        many there were. This process's buffer is flushed first, so a record still in
        memory cannot be written after its deletion. Blocking."""
        ids = list(request_ids)
        if not ids:
            return 0
        if self._buffer:
            self.flush()
        return self.store.forget(ids)

    # the background task -----------------------------------------------------------------------
    async def run(self, interval: float = FLUSH_SECONDS) -> None:
        """Flush every ``interval`` seconds until cancelled; never raises."""
        while True:
            await asyncio.sleep(interval)
            if self._buffer:
                await self._flush_logged()

    async def close(self, timeout: float = 2.0) -> None:
        """Last flush at shutdown; best effort and bounded (Redis may be gone or hanging)."""
        if self._buffer:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_logged(), timeout)

    async def _flush_logged(self) -> None:
        try:
            await asyncio.to_thread(self.flush)
        except UnavailableError as e:
            if not self._down:  # once per outage, not every half second
                log.warning("online metrics not written, buffering (%d): %s", len(self), e)
            self._down = True
            return
        except Exception:  # a background task's boundary: log it, keep flushing
            log.exception("online metrics flush failed")
            return
        if self._down:
            log.info("online metrics written again (%d dropped so far)", self.counts["dropped"])
        self._down = False

    def stats(self) -> dict[str, int]:
        """Cumulative counters of this process, and ``buffered`` now (a batch a flush is
        writing at this moment included: it is neither recorded nor dropped yet)."""
        fb = self.feedback
        with self._moving:
            buffered = len(self._buffer) + self._in_flight
        return {
            **self.counts,
            "buffered": buffered,
            "feedback_attributed": fb.attributed,
            "feedback_duplicates": fb.duplicates,
            "feedback_not_shown": fb.not_shown,
            "feedback_unknown": fb.unknown,
            "feedback_unsampled": fb.unsampled,
        }
