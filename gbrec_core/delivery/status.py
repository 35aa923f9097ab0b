"""Where delivery stands: champion, challenger, the running experiment, the last decision."""

from __future__ import annotations

from dataclasses import dataclass

from gbrec_core.delivery.events import DecisionRecord, last_decision
from gbrec_core.delivery.spec import CHALLENGER_PREFIX
from gbrec_core.experiments.service import ExperimentService
from gbrec_core.experiments.types import Experiment, ExperimentStatus
from gbrec_core.registry import CHALLENGER, ModelRegistry
from gbrec_core.store.client import RedisClient


@dataclass(frozen=True)
class DeliveryStatus:
    mode: str
    champion_version: str | None
    challenger_version: str | None
    experiment: Experiment | None
    last_decision: DecisionRecord | None


def running_challenger_experiment(experiments: ExperimentService) -> Experiment | None:
    """The newest RUNNING champion-challenger experiment named ``challenger-v<N>``."""
    found = [
        e
        for e in experiments.find(ExperimentStatus.RUNNING)
        if e.spec.champion_challenger and e.id.startswith(CHALLENGER_PREFIX)
    ]
    return max(found, key=lambda e: e.created_at, default=None)


def delivery_status(
    registry: ModelRegistry, experiments: ExperimentService, client: RedisClient
) -> DeliveryStatus:
    """Blocking (MLflow and Redis): read everything once."""
    return DeliveryStatus(
        mode=registry.settings.delivery,
        champion_version=registry.champion_version(),
        challenger_version=registry.alias_version(CHALLENGER),
        experiment=running_challenger_experiment(experiments),
        last_decision=last_decision(client),
    )
