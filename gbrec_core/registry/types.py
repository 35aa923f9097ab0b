"""Plain records the registry hands out: versions, deployments, promotion decisions."""

from __future__ import annotations

import dataclasses
from datetime import datetime

CHAMPION = "champion"
CHALLENGER = "challenger"
# The popularity baseline: registered beside the champion so a fresh install can A/B test.
BASELINE = "baseline"


@dataclasses.dataclass(frozen=True)
class ModelVersionInfo:
    """One registered version: its aliases and the evaluation metrics of its run."""

    version: str
    aliases: list[str]
    metrics: dict[str, float]
    created_at: datetime
    run_id: str | None = None
    checksum: str | None = None
    model: str | None = None
    source: str | None = None
    model_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Deployment:
    """The champion alias moved to ``version`` (from ``previous_version``) at ``at``."""

    version: str
    previous_version: str | None
    at: datetime

    def summary(self) -> dict[str, str | None]:
        """What the audit trail records as a deploy or rollback's outcome."""
        return {"version": self.version, "previousVersion": self.previous_version}


@dataclasses.dataclass(frozen=True)
class PromotionDecision:
    """Outcome of the promotion gate for ``version``, with the reason in words."""

    version: str
    accepted: bool
    reason: str
    metric: str
    candidate_value: float | None
    champion_version: str | None
    champion_value: float | None
    deployment: Deployment | None = None
