"""Validation of incoming events and their raw-stream encoding."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from gbrec_core.experiments.types import Event, EventType


def event_problem(event: Event) -> str | None:
    """Why ``event`` is invalid, or None when it is acceptable."""
    if isinstance(event.user_id, bool) or not isinstance(event.user_id, int) or event.user_id < 0:
        return "user_id must be a non-negative integer"
    if not isinstance(event.type, EventType):
        return f"unknown event type {event.type!r}"
    if event.book_id is not None and (isinstance(event.book_id, bool) or event.book_id < 0):
        return "book_id must be a non-negative integer"
    if event.value is not None and not math.isfinite(event.value):
        return "value must be finite"
    if event.type in (EventType.RATING, EventType.SATISFACTION) and event.value is None:
        return f"{event.type.value} events need a value"
    if event.type is EventType.RATING and not 1 <= (event.value or 0) <= 5:
        return "RATING value must be between 1 and 5"
    return None


RawEntry = dict[str, Any]


def raw_event(event: Event, now_iso: str | None = None) -> RawEntry:
    """The event as stored in the raw stream (JSON-serialised by the store)."""
    ts = event.timestamp.isoformat() if event.timestamp else now_iso
    return {
        "kind": event.type.value,
        "experiment": event.experiment_id,
        "user": event.user_id,
        "book": event.book_id,
        "request": event.request_id,
        "value": event.value,
        "ts": ts or datetime.now(UTC).isoformat(),
    }


def raw_exposure(
    experiment_id: str, variant: str, user_id: int, request_id: str, book_ids: list[int]
) -> RawEntry:
    return {
        "kind": "EXPOSURE",
        "experiment": experiment_id,
        "variant": variant,
        "user": user_id,
        "request": request_id,
        "books": book_ids,
        "ts": datetime.now(UTC).isoformat(),
    }
