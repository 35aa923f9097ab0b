"""Bounded, ordered in-memory buffer for writes made while Redis is unreachable.

Never drops anything silently: a write that does not fit is refused as a whole with
:class:`UnavailableError`, and buffered writes are replayed in order on the next flush.
Replays are at-least-once (a connection lost after EXEC may repeat a batch). Buffered
writes hold pseudonyms, like Redis, and :meth:`WriteBuffer.forget` erases one user.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import orjson

from gbrec_core.errors import UnavailableError
from gbrec_core.experiments.rawlog import user_marker
from gbrec_core.experiments.store import StoredExposure
from gbrec_core.experiments.types import EventType


class PendingEvent(NamedTuple):
    """A validated event whose user is already a pseudonym (ops come at write time,
    from the experiment's metric layout)."""

    user: str
    type: EventType
    book_id: int | None
    value: float | None


@dataclass(frozen=True)
class PendingWrite:
    """One batch for one experiment (``raw``: log lines only, no experiment)."""

    kind: Literal["exposures", "events", "raw"]
    experiment_id: str | None
    raw: Sequence[str]  # JSON lines for the raw-event log
    size: int  # events it accounts for in the buffer
    exposures: Sequence[StoredExposure] = ()
    events: Sequence[PendingEvent] = ()
    created: float = field(default_factory=time.time)  # epoch s, against erasure marks

    def users(self) -> set[str]:
        """The pseudonyms this write names."""
        if self.kind == "raw":
            return {str(orjson.loads(line).get("user", "")) for line in self.raw}
        return {r.user for r in self.exposures} | {e.user for e in self.events}

    def without(self, pseudonym: str) -> tuple[PendingWrite, int]:
        """This write minus one user's items, and how many of its counted events went."""
        marker = user_marker(pseudonym)
        raw = [line for line in self.raw if marker not in line]
        exposures = [r for r in self.exposures if r.user != pseudonym]
        events = [e for e in self.events if e.user != pseudonym]
        gone = len(self.exposures) - len(exposures) + len(self.events) - len(events)
        if self.kind == "raw":
            gone = len(self.raw) - len(raw)
        gone = gone if self.size else 0  # a copy for another experiment counts nothing
        kept = dataclasses.replace(
            self, raw=raw, size=self.size - gone, exposures=exposures, events=events
        )
        return kept, gone

    @property
    def empty(self) -> bool:
        return not (self.raw or self.exposures or self.events)


class WriteBuffer:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[PendingWrite] = deque()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._size

    def push_all(self, writes: Sequence[PendingWrite]) -> None:
        """Buffer all of ``writes`` or none of them."""
        need = sum(w.size for w in writes)
        with self._lock:
            if self._size + need > self.capacity:
                raise UnavailableError(
                    f"Redis unreachable and the event buffer is full "
                    f"({self._size}/{self.capacity}); {need} events refused"
                )
            self._items.extend(writes)
            self._size += need

    def drain(self, write: Callable[[PendingWrite], None]) -> int:
        """Replay buffered writes in order; stops (keeping the rest) at the first failure."""
        done = 0
        with self._lock:
            while self._items:
                item = self._items[0]
                write(item)  # raises on failure: the item stays at the head
                self._items.popleft()
                self._size -= item.size
                done += item.size
        return done

    def forget(self, pseudonym: str) -> int:
        """Erase one user's buffered exposures and events; returns how many."""
        removed = 0
        with self._lock:
            kept: deque[PendingWrite] = deque()
            for w in self._items:
                rest, gone = w.without(pseudonym)
                removed += gone
                if not rest.empty:
                    kept.append(rest)
            self._items = kept
            self._size -= removed
        return removed
