"""Bounded, ordered in-memory buffer for writes made while Redis is unreachable.

Never drops anything silently: a write that does not fit is refused as a whole with
:class:`UnavailableError`, and buffered writes are replayed in order on the next flush.
Replays are at-least-once (a connection lost after EXEC may repeat a batch).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from gbrec_core.errors import UnavailableError
from gbrec_core.experiments.events import RawEntry
from gbrec_core.experiments.store import ExposureRow
from gbrec_core.experiments.types import Event


@dataclass(frozen=True)
class PendingWrite:
    """One batch for one experiment (``raw``: stream entries only, no experiment)."""

    kind: Literal["exposures", "events", "raw"]
    experiment_id: str | None
    raw: Sequence[RawEntry]
    size: int  # events it accounts for in the buffer
    exposures: Sequence[ExposureRow] = ()
    events: Sequence[Event] = ()


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
