"""Experiment domain types: specs, assignments, events and results (as the API shows them)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Correction = Literal["holm", "bh", "none"]


class Strategy(enum.StrEnum):
    RANDOM = "RANDOM"
    WEIGHTED = "WEIGHTED"
    STAGED = "STAGED"


class ExperimentStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    CONCLUDED = "CONCLUDED"
    ROLLED_BACK = "ROLLED_BACK"


class EventType(enum.StrEnum):
    IMPRESSION = "IMPRESSION"
    CLICK = "CLICK"
    RATING = "RATING"
    SATISFACTION = "SATISFACTION"


@dataclass(frozen=True)
class VariantSpec:
    """One arm; ``model`` is a registry version or alias. The first variant is control."""

    name: str
    model: str
    weight: float | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    """Everything needed to create an experiment (``ExperimentInput`` in GraphQL).

    ``metrics[0]`` is the primary metric; names are built-ins (ctr, precision, recall,
    satisfaction) or a ``custom_metrics`` entry. ``guardrails`` are checked with a
    one-sided sequential test (for STAGED, every metric when left empty).
    ``sequential_tuning`` is N*, the sample size at which the confidence sequence is
    tightest. ``forced_users`` pins user ids to variants for QA. ``champion_challenger``:
    the first arm is the champion, the last the challenger, and the delivery loop (not
    auto-stop) decides. ``cuped_covariate`` names the pre-period metric whose per-user
    value callers pass as ``covariate`` on exposures (a label: CUPED applies whenever
    the covariates vary).
    """

    id: str
    variants: tuple[VariantSpec, ...]
    strategy: Strategy = Strategy.RANDOM
    description: str = ""
    coverage: float = 1.0
    seed: str | None = None
    hash_version: int = 2
    stages: tuple[float, ...] = ()
    metrics: tuple[str, ...] = ("ctr",)
    guardrails: tuple[str, ...] = ()
    custom_metrics: tuple[MetricSpec, ...] = ()
    targeting: Mapping[str, Any] | None = None
    namespace: tuple[str, float, float] | None = None
    forced_users: Mapping[int, str] = field(default_factory=dict)
    sequential: bool = True
    auto_stop: bool = True
    alpha: float = 0.05
    sequential_tuning: float = 5000.0
    correction: Correction = "holm"
    min_users_per_variant: int = 100
    positive_rating: float = 4.0
    champion_challenger: bool = False
    cuped_covariate: str | None = None


@dataclass(frozen=True)
class MetricSpec:
    """A per-user metric. ``kind``: ``ratio`` (sum a / sum b over users, delta method),
    ``mean`` (mean of each user's own mean, users with events only), ``total`` (per-user
    count/sum, every exposed user), ``binary`` (1 when the user had the event)."""

    name: str
    event_type: EventType
    aggregation: Literal["count", "sum", "mean", "binary"] = "count"
    higher_is_better: bool = True


@dataclass(frozen=True)
class Experiment:
    spec: ExperimentSpec
    status: ExperimentStatus
    stage: int
    winner: str | None
    decision: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def seed(self) -> str:
        return self.spec.seed or self.spec.id

    def summary(self) -> dict[str, Any]:
        """What the audit trail records as an experiment action's outcome."""
        return {
            "id": self.id,
            "status": self.status.value,
            "coverage": self.coverage,
            "winner": self.winner,
        }

    @property
    def coverage(self) -> float:
        """Current coverage: the active stage for STAGED, else the spec's coverage."""
        if self.spec.strategy is Strategy.STAGED and self.spec.stages:
            return self.spec.stages[min(self.stage, len(self.spec.stages) - 1)]
        return self.spec.coverage

    @property
    def weights(self) -> list[float]:
        n = len(self.spec.variants)
        if self.spec.strategy is Strategy.RANDOM:
            return [1.0 / n] * n
        given = [v.weight for v in self.spec.variants]
        if any(w is None for w in given):
            return [1.0 / n] * n
        return [float(w) for w in given if w is not None]

    @property
    def control(self) -> VariantSpec:
        return self.spec.variants[0]


@dataclass(frozen=True)
class Assignment:
    """The variant to serve. ``in_experiment`` is False for forced/rolled-back/concluded
    traffic, which is served but not analysed."""

    experiment_id: str
    variant: str
    model: str
    variant_index: int
    in_experiment: bool
    hash_value: float | None
    reason: str


@dataclass(frozen=True)
class RouteDecision:
    """Serving decision that never fails on a Redis outage: ``fallback`` means serve the
    control/champion because the experiment definition could not be read."""

    assignment: Assignment | None
    fallback: bool
    reason: str


@dataclass(frozen=True)
class Event:
    user_id: int
    type: EventType
    experiment_id: str | None = None
    book_id: int | None = None
    request_id: str | None = None
    value: float | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class RecordResult:
    accepted: int
    rejected: int
    buffered: int = 0
    unattributed: int = 0
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class VariantStats:
    name: str
    users: int
    exposures: int


@dataclass(frozen=True)
class MetricResult:
    metric: str
    variant: str
    mean: float
    users: int
    diff: float | None = None
    lift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    lift_ci_low: float | None = None
    lift_ci_high: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    significant: bool = False
    cuped: bool = False


@dataclass(frozen=True)
class ExperimentResults:
    experiment_id: str
    status: ExperimentStatus
    srm_p_value: float | None
    srm_ok: bool
    variants: list[VariantStats]
    metrics: list[MetricResult]
    decision: str | None
    winner: str | None
    sequential: bool
    computed_at: datetime
