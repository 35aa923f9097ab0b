"""Turns exposures/events into store writes, buffering them while Redis is down."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from gbrec_core.errors import StoreDownError, UnavailableError
from gbrec_core.experiments.buffer import PendingEvent, PendingWrite, WriteBuffer
from gbrec_core.experiments.events import raw_event, raw_exposure
from gbrec_core.experiments.metrics import MetricLayout
from gbrec_core.experiments.store import (
    ExperimentStore,
    ExposureRow,
    StoredExposure,
    event_line,
)
from gbrec_core.experiments.types import Event, Experiment

log = logging.getLogger(__name__)
T = TypeVar("T")
Resolver = Callable[[str], tuple[Experiment, MetricLayout] | None]
Pseudonym = Callable[[int], str]


# One Lua call blocks Redis while it runs; 2,000 events keep that to a few tens of ms
# (other clients - API keys, rate limits - share the server) and lose little throughput.
MAX_BATCH = 2_000


def chunks(items: Sequence[T], size: int = MAX_BATCH) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def plan_events(
    groups: dict[str | None, list[Event]], running: Sequence[str], pseudonym: Pseudonym
) -> list[PendingWrite]:
    """Writes of at most MAX_BATCH events per experiment; untagged events go to every
    running experiment but are logged (and buffer-counted) once. Users become
    pseudonyms here, before anything is written or buffered."""
    now = datetime.now(UTC).isoformat()
    writes: list[PendingWrite] = []
    for eid, evs in groups.items():
        for part in chunks(evs):
            pending, raw = _pseudonymised(part, pseudonym, now)
            if eid is not None:
                writes.append(PendingWrite("events", eid, raw, len(part), events=pending))
            elif not running:
                writes.append(PendingWrite("raw", None, raw, len(part)))
            for j, target in enumerate(running if eid is None else ()):
                first = j == 0
                size = len(part) if first else 0
                writes.append(
                    PendingWrite("events", target, raw if first else [], size, events=pending)
                )
    return writes


def plan_exposures(
    experiment_id: str,
    variants: Sequence[str],
    rows: Sequence[ExposureRow],
    request_id: str,
    pseudonym: Pseudonym,
) -> list[PendingWrite]:
    """Writes of at most MAX_BATCH exposures, users already pseudonymised."""
    writes: list[PendingWrite] = []
    for part in chunks(rows):
        stored = [
            StoredExposure(pseudonym(r.user_id), r.variant, r.covariate, r.book_ids) for r in part
        ]
        raw = [
            raw_exposure(experiment_id, variants[r.variant], s.user, request_id, list(r.book_ids))
            for r, s in zip(part, stored, strict=True)
        ]
        writes.append(PendingWrite("exposures", experiment_id, raw, len(part), exposures=stored))
    return writes


def _pseudonymised(
    events: Sequence[Event], pseudonym: Pseudonym, now: str
) -> tuple[list[PendingEvent], list[str]]:
    """The events with pseudonyms for users, and their raw-log lines (one pass: this
    runs for every ingested event)."""
    pending: list[PendingEvent] = []
    raw: list[str] = []
    for e in events:
        user = pseudonym(e.user_id)
        pending.append(PendingEvent(user, e.type, e.book_id, e.value))
        raw.append(raw_event(e, user, now))
    return pending, raw


class Writer:
    """Applies :class:`PendingWrite` batches; returns events attributed per batch."""

    def __init__(self, store: ExperimentStore, buffer: WriteBuffer, resolve: Resolver) -> None:
        self.store = store
        self.buffer = buffer
        self.resolve = resolve

    def apply(self, w: PendingWrite) -> int:
        if w.kind == "raw" or w.experiment_id is None:
            self.store.write_raw(w.raw)
            return 0
        found = self.resolve(w.experiment_id)
        if found is None:  # experiment deleted/unknown by replay time: keep the raw record
            log.warning(
                "experiment %s unknown; events kept in the raw stream only", w.experiment_id
            )
            self.store.write_raw(w.raw)
            return 0
        exp, layout = found
        if w.kind == "exposures":
            self.store.write_exposures(exp, layout, w.exposures, w.raw)
            return len(w.exposures)
        text = layout.ops_text
        lines = [event_line(u, b, text(t, b, v)) for u, t, b, v in w.events]
        users = (e.user for e in w.events)
        return self.store.write_events(exp, layout, lines, w.raw, users)

    def flush(self) -> int:
        """Replay the buffer; raises StoreDownError when Redis is still down."""
        return self.buffer.drain(self._apply_quietly)

    def _apply_quietly(self, w: PendingWrite) -> None:
        kept = self._without_erased(w)
        if not kept.empty:
            self.apply(kept)

    def _without_erased(self, w: PendingWrite) -> PendingWrite:
        """A buffered write minus users erased after it was made (by any process)."""
        dropped = 0
        for user, at in self.store.erased_at(w.users()).items():
            if at >= w.created:
                w, gone = w.without(user)
                dropped += gone
        if dropped:
            log.info("replay: %d buffered events of erased users left out", dropped)
        return w

    def write(self, writes: Sequence[PendingWrite]) -> tuple[int, int]:
        """Apply ``writes`` in order; returns (attributed, buffered events).

        Anything not yet applied when Redis fails is buffered as a whole, or refused with
        UnavailableError when it does not fit; nothing is dropped silently.
        """
        attributed, done = 0, 0
        try:
            if len(self.buffer):
                self.flush()
            for w in writes:
                attributed += self.apply(w)
                done += 1
        except StoreDownError as e:
            rest = writes[done:]
            try:
                self.buffer.push_all(rest)
            except UnavailableError as full:
                raise UnavailableError(f"{full}; Redis error: {e}") from e
            log.warning("Redis unreachable (%s); buffered %d events", e, sum(w.size for w in rest))
            return attributed, sum(w.size for w in rest)
        return attributed, 0
