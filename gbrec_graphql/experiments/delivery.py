"""GraphQL view of model delivery: ``deliveryStatus`` (mapped from gbrec_core.delivery)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gbrec_core.delivery import events as core_events
from gbrec_core.delivery import status as core
from gbrec_graphql.experiments.types import Experiment


@strawberry.type(description="The delivery loop's latest decision.")
class DeliveryDecision:
    event: str = strawberry.field(
        description="promoteChallenger, rollbackChallenger, advanceExperiment, "
        "stopExperiment or srmPause."
    )
    experiment_id: str
    champion_version: str
    challenger_version: str
    decision: str
    at: datetime

    @classmethod
    def from_domain(cls, d: core_events.DecisionRecord) -> DeliveryDecision:
        return cls(
            event=d.event,
            experiment_id=d.experiment_id,
            champion_version=d.champion_version,
            challenger_version=d.challenger_version,
            decision=d.decision,
            at=d.at,
        )


@strawberry.type(description="Which version is champion, which challenger, and the test.")
class DeliveryStatus:
    mode: str = strawberry.field(description="experiment or gate (GBREC_DELIVERY).")
    champion_version: str | None
    challenger_version: str | None
    experiment: Experiment | None = strawberry.field(
        description="The running challenger-v<N> experiment, if any."
    )
    last_decision: DeliveryDecision | None

    @classmethod
    def from_domain(cls, s: core.DeliveryStatus) -> DeliveryStatus:
        return cls(
            mode=s.mode,
            champion_version=s.champion_version,
            challenger_version=s.challenger_version,
            experiment=None if s.experiment is None else Experiment.from_domain(s.experiment),
            last_decision=None
            if s.last_decision is None
            else DeliveryDecision.from_domain(s.last_decision),
        )
