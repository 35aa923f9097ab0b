"""What the delivery loop tells the world about a decision: the event, its stream entry.

Every decision becomes one :class:`DeliveryEvent`; the loop appends it to the Redis
stream ``gbrec:delivery:decisions`` (read by the Dagster sensor), the API audits it and
hands it to the notification hook (alerts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from gbrec_core.store.client import RedisClient
from gbrec_core.store.errors import store_call

DECISIONS_STREAM = "gbrec:delivery:decisions"
DECISIONS_MAX = 10_000

EventName = Literal[
    "promoteChallenger", "rollbackChallenger", "advanceExperiment", "stopExperiment", "srmPause"
]
#: Decisions that change an experiment or the registry: each gets an audit entry.
AUDITED: frozenset[str] = frozenset(
    {"promoteChallenger", "rollbackChallenger", "advanceExperiment", "stopExperiment"}
)
SYSTEM_KEY_ID = "system"


@dataclass(frozen=True)
class DeliveryEvent:
    """One decision of the loop. ``interval`` is the always-valid interval (ci_low,
    ci_high) of challenger minus champion on ``metric``; ``ok`` is False when the
    experiment's status changed but carrying the decision out (the registry) failed."""

    event: EventName
    experiment_id: str
    champion_version: str
    challenger_version: str
    decision: str
    metric: str
    interval: tuple[float | None, float | None]
    dashboard_url: str
    dagster_run_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    ok: bool = True
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def audited(self) -> bool:
        return self.event in AUDITED

    def arguments(self) -> dict[str, Any]:
        """The audit entry's arguments."""
        return {
            "experimentId": self.experiment_id,
            "championVersion": self.champion_version,
            "challengerVersion": self.challenger_version,
        }

    def payload(self) -> dict[str, Any]:
        """The JSON body of an alert (webhook) about this decision."""
        return {
            "event": self.event,
            **self.arguments(),
            "decision": self.decision,
            "metric": self.metric,
            "ciLow": self.interval[0],
            "ciHigh": self.interval[1],
            "dashboardUrl": self.dashboard_url,
            "dagsterRunId": self.dagster_run_id,
            "ok": self.ok,
            "at": self.at.isoformat(),
            "details": dict(self.details),
        }


Notify = Callable[[DeliveryEvent], None]


def stream_fields(event: DeliveryEvent) -> dict[str, str]:
    """One entry of ``gbrec:delivery:decisions`` (``details`` is JSON)."""
    details = {
        **event.details,
        "metric": event.metric,
        "ci_low": event.interval[0],
        "ci_high": event.interval[1],
        "ok": event.ok,
        "dagster_run_id": event.dagster_run_id,
        "dashboard_url": event.dashboard_url,
    }
    return {
        "event": event.event,
        "experiment_id": event.experiment_id,
        "champion_version": event.champion_version,
        "challenger_version": event.challenger_version,
        "decision": event.decision,
        "at": event.at.isoformat(),
        "details": json.dumps(details, default=str),
    }


@store_call("delivery decisions stream")
def append_decision(client: RedisClient, event: DeliveryEvent) -> None:
    client.xadd(
        DECISIONS_STREAM,
        stream_fields(event),  # type: ignore[arg-type]
        maxlen=DECISIONS_MAX,
        approximate=True,
    )


@dataclass(frozen=True)
class DecisionRecord:
    """One entry of the decisions stream, as read back (newest first in listings)."""

    event: str
    experiment_id: str
    champion_version: str
    challenger_version: str
    decision: str
    at: datetime


@store_call("delivery decisions stream")
def last_decision(client: RedisClient) -> DecisionRecord | None:
    # The client decodes responses, so ids and fields are str.
    found = cast(list[tuple[str, dict[str, str]]], client.xrevrange(DECISIONS_STREAM, count=1))
    return _record(found[0][1]) if found else None


@store_call("delivery decisions stream")
def decisions_of(client: RedisClient, experiment_id: str, limit: int) -> list[DecisionRecord]:
    """The experiment's decisions, oldest first (at most the newest ``limit``); the
    stream is capped at DECISIONS_MAX entries, so this reads a bounded amount."""
    found = cast(
        list[tuple[str, dict[str, str]]], client.xrevrange(DECISIONS_STREAM, count=DECISIONS_MAX)
    )
    mine = [_record(f) for _, f in found if f.get("experiment_id") == experiment_id]
    return mine[:limit][::-1]


def _record(f: dict[str, str]) -> DecisionRecord:
    return DecisionRecord(
        event=f["event"],
        experiment_id=f["experiment_id"],
        champion_version=f["champion_version"],
        challenger_version=f["challenger_version"],
        decision=f["decision"],
        at=datetime.fromisoformat(f["at"]),
    )
