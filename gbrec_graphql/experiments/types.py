"""GraphQL types of the experiments domain (mapped from gbrec_core.experiments)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments import types as core
from gbrec_graphql.context import Info
from gbrec_graphql.experiments.history import check_points, since_timestamp, thin
from gbrec_graphql.fields import field

# The GraphQL enums are the core enums themselves (same names), registered once.
Strategy = core.Strategy
ExperimentStatus = core.ExperimentStatus
EventType = core.EventType
for _enum in (Strategy, ExperimentStatus, EventType):
    strawberry.enum(_enum)


@strawberry.type
class Variant:
    name: str
    weight: float
    model: str = strawberry.field(description="Registry version or alias this arm serves.")


@strawberry.type
class VariantStats:
    name: str
    users: int
    exposures: int

    @classmethod
    def from_domain(cls, stats: core.VariantStats) -> VariantStats:
        return cls(name=stats.name, users=stats.users, exposures=stats.exposures)


@strawberry.type(description="A variant's metric; diff/lift/CI are against the control.")
class MetricResult:
    metric: str
    variant: str
    mean: float
    users: int
    diff: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    adjusted_p_value: float | None
    significant: bool

    @classmethod
    def from_domain(cls, m: core.MetricResult) -> MetricResult:
        return cls(
            metric=m.metric,
            variant=m.variant,
            mean=m.mean,
            users=m.users,
            diff=m.diff,
            lift=m.lift,
            ci_low=m.ci_low,
            ci_high=m.ci_high,
            p_value=m.p_value,
            adjusted_p_value=m.adjusted_p_value,
            significant=m.significant,
        )


@strawberry.type
class ExperimentResults:
    srm_p_value: float | None
    srm_ok: bool
    variants: list[VariantStats]
    metrics: list[MetricResult]
    decision: str | None
    sequential: bool
    computed_at: datetime

    @classmethod
    def from_domain(cls, r: core.ExperimentResults) -> ExperimentResults:
        return cls(
            srm_p_value=r.srm_p_value,
            srm_ok=r.srm_ok,
            variants=[VariantStats.from_domain(v) for v in r.variants],
            metrics=[MetricResult.from_domain(m) for m in r.metrics],
            decision=r.decision,
            sequential=r.sequential,
            computed_at=r.computed_at,
        )


@strawberry.type
class Experiment:
    id: str
    description: str
    status: ExperimentStatus
    strategy: Strategy
    coverage: float = strawberry.field(description="Current coverage (the active stage if STAGED).")
    seed: str
    hash_version: int
    stage: int
    stages: list[float]
    metrics: list[str] = strawberry.field(description="Metric names; the first is primary.")
    variants: list[Variant]
    winner: str | None
    decision: str | None
    created_at: datetime
    updated_at: datetime

    @field(description="Per-variant traffic, SRM check and metric comparisons.")
    async def results(self, info: Info) -> ExperimentResults:
        service = info.context.services.experiments
        return ExperimentResults.from_domain(await asyncio.to_thread(service.results, self.id))

    @field(
        description="Result snapshots over time, oldest first (the cumulative difference "
        "with its interval as data accrued); at most `limit` points, spread evenly."
    )
    async def history(
        self, info: Info, since: datetime | None = None, limit: int = 500
    ) -> list[ExperimentResults]:
        check_points(limit)
        start = since_timestamp(since)
        snapshots = await asyncio.to_thread(
            info.context.services.experiments.history, self.id, start
        )
        return [ExperimentResults.from_domain(r) for r in thin(snapshots, limit)]

    @classmethod
    def from_domain(cls, e: core.Experiment) -> Experiment:
        weights = e.weights
        return cls(
            id=e.id,
            description=e.spec.description,
            status=e.status,
            strategy=e.spec.strategy,
            coverage=e.coverage,
            seed=e.seed,
            hash_version=e.spec.hash_version,
            stage=e.stage,
            stages=list(e.spec.stages),
            metrics=list(e.spec.metrics),
            variants=[
                Variant(name=v.name, weight=w, model=v.model)
                for v, w in zip(e.spec.variants, weights, strict=True)
            ],
            winner=e.winner,
            decision=e.decision,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


def _targeting(value: JSON | None) -> dict[str, Any] | None:
    # A GrowthBook condition is a JSON object; anything else would only fail later,
    # on the first assignment, as an internal error.
    if value is None or isinstance(value, dict):
        return value
    raise InvalidInputError("targeting must be a JSON object (a GrowthBook condition)")


@strawberry.input
class VariantInput:
    name: str
    model: str
    weight: float | None = None


@strawberry.input
class ExperimentInput:
    id: str
    strategy: Strategy
    variants: list[VariantInput]
    description: str | None = None
    coverage: float = 1.0
    seed: str | None = None
    hash_version: int = 2
    stages: list[float] | None = None
    metrics: list[str] | None = None
    targeting: JSON | None = None
    sequential: bool = True
    auto_stop: bool = True
    alpha: float = 0.05

    def to_domain(self) -> core.ExperimentSpec:
        spec = core.ExperimentSpec(
            id=self.id,
            variants=tuple(core.VariantSpec(v.name, v.model, v.weight) for v in self.variants),
            strategy=core.Strategy(self.strategy),
            description=self.description or "",
            coverage=self.coverage,
            seed=self.seed,
            hash_version=self.hash_version,
            stages=tuple(self.stages or ()),
            targeting=_targeting(self.targeting),
            sequential=self.sequential,
            auto_stop=self.auto_stop,
            alpha=self.alpha,
        )
        # Omitted metrics keep the core's default primary metric.
        return dataclasses.replace(spec, metrics=tuple(self.metrics)) if self.metrics else spec

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "strategy": str(self.strategy),
            "variants": [
                {"name": v.name, "model": v.model, "weight": v.weight} for v in self.variants
            ],
            "coverage": self.coverage,
            "stages": self.stages,
            "metrics": self.metrics,
        }


@strawberry.input
class EventInput:
    user_id: int
    type: EventType
    request_id: str | None = None
    experiment_id: str | None = None
    book_id: int | None = None
    value: float | None = None
    timestamp: datetime | None = None

    def to_domain(self) -> core.Event:
        return core.Event(
            user_id=self.user_id,
            type=core.EventType(self.type),
            experiment_id=self.experiment_id,
            book_id=self.book_id,
            request_id=self.request_id,
            value=self.value,
            timestamp=self.timestamp,
        )


@strawberry.type
class RecordEventsResult:
    accepted: int
    rejected: int
    errors: list[str]

    @classmethod
    def from_domain(cls, r: core.RecordResult) -> RecordEventsResult:
        return cls(accepted=r.accepted, rejected=r.rejected, errors=list(r.errors)[:20])
