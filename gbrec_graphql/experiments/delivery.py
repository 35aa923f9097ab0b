"""GraphQL view of model delivery: ``deliveryStatus`` (mapped from gbrec_core.delivery)."""

from __future__ import annotations

import strawberry

from gbrec_core.delivery import status as core
from gbrec_graphql.experiments.types import DeliveryDecision, Experiment


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
