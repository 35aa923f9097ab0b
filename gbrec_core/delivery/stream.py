"""Reading the delivery decision stream ``gbrec:delivery:decisions``.

The API's sweeper appends one entry per decision (fields ``event``, ``experiment_id``,
``champion_version``, ``challenger_version``, ``decision``, ``at``, ``details`` as JSON);
readers such as the Dagster sensor follow it from a cursor (the last entry id seen).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from gbrec_core.delivery.events import DECISIONS_STREAM
from gbrec_core.store.client import RedisClient
from gbrec_core.store.errors import redis_errors

START = "0-0"


@dataclasses.dataclass(frozen=True)
class DecisionEntry:
    """One stream entry, decoded; ``details`` parsed from its JSON (``{}`` when absent)."""

    id: str
    fields: dict[str, str]

    @property
    def event(self) -> str:
        return self.fields.get("event", "")

    @property
    def details(self) -> dict[str, Any]:
        raw = self.fields.get("details")
        if not raw:
            return {}
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"text": raw}
        return parsed if isinstance(parsed, dict) else {"value": parsed}


def read_decisions(
    client: RedisClient, after: str = START, count: int = 100
) -> list[DecisionEntry]:
    """Up to ``count`` entries with an id greater than ``after``, oldest first."""
    with redis_errors(f"cannot read {DECISIONS_STREAM}"):
        found = client.xrange(DECISIONS_STREAM, min=f"({after}", max="+", count=count)
    return [DecisionEntry(_text(i), _decode(fields or {})) for i, fields in found or []]


def _decode(fields: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in fields.items()}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
