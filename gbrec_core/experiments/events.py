"""Validation of incoming events and their raw-log encoding (JSON lines)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson

from gbrec_core.experiments.types import Event, EventType


def event_problem(event: Event) -> str | None:
    """Why ``event`` is invalid, or None when it is acceptable (on the ingestion hot
    path: fields read once, the common case decided in a few comparisons)."""
    user, t, book, value = event.user_id, event.type, event.book_id, event.value
    if isinstance(user, bool) or not isinstance(user, int) or user < 0:
        return "user_id must be a non-negative integer"
    if not isinstance(t, EventType):
        return f"unknown event type {t!r}"
    if book is not None and (isinstance(book, bool) or book < 0):
        return "book_id must be a non-negative integer"
    if value is None:
        return f"{t.value} events need a value" if t in _NEED_VALUE else None
    if not math.isfinite(value):
        return "value must be finite"
    if t is EventType.RATING and not 1 <= value <= 5:
        return "RATING value must be between 1 and 5"
    return None


_NEED_VALUE = frozenset((EventType.RATING, EventType.SATISFACTION))


def raw_event(event: Event, user: str, now_iso: str) -> str:
    """The event as logged: one JSON line whose user is the pseudonym ``user``."""
    ts = event.timestamp.isoformat() if event.timestamp else now_iso
    entry = {
        "kind": event.type,
        "experiment": event.experiment_id,
        "user": user,
        "book": event.book_id,
        "request": event.request_id,
        "value": event.value,
        "ts": ts,
    }
    return orjson.dumps(entry).decode()


def raw_exposure(
    experiment_id: str, variant: str, user: str, request_id: str, book_ids: list[int]
) -> str:
    """An exposure as logged (``user``: the pseudonym)."""
    entry: dict[str, Any] = {
        "kind": "EXPOSURE",
        "experiment": experiment_id,
        "variant": variant,
        "user": user,
        "request": request_id,
        "books": book_ids,
        "ts": datetime.now(UTC).isoformat(),
    }
    return orjson.dumps(entry).decode()
