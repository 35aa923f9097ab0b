"""GraphQL types of the experiments domain (mapped from gbrec_core.experiments)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gbrec_core.delivery.events import DecisionRecord, decisions_of
from gbrec_core.errors import InvalidInputError, NotFoundError
from gbrec_core.experiments import types as core
from gbrec_graphql.context import Info
from gbrec_graphql.experiments.history import check_points, since_timestamp
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


@strawberry.type(description="A decision of the delivery loop.")
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
    def from_domain(cls, d: DecisionRecord) -> DeliveryDecision:
        return cls(
            event=d.event,
            experiment_id=d.experiment_id,
            champion_version=d.champion_version,
            challenger_version=d.challenger_version,
            decision=d.decision,
            at=d.at,
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
    guardrails: list[str] = strawberry.field(
        description="Metrics whose significant regression rolls the experiment back."
    )
    champion_challenger: bool = strawberry.field(
        description="First arm champion, last arm challenger; the delivery loop decides."
    )
    correction: str
    min_users_per_variant: int
    cuped_covariate: str | None
    variants: list[Variant]
    winner: str | None
    decision: str | None
    created_at: datetime
    updated_at: datetime

    @field(
        description="The delivery loop's decisions on this experiment (stage advances, "
        "SRM pause, promotion, rollback, stop), oldest first; at most `limit`."
    )
    async def timeline(self, info: Info, limit: int = 50) -> list[DeliveryDecision]:
        check_points(limit)
        client = info.context.services.stack.redis
        found = await asyncio.to_thread(decisions_of, client, self.id, limit)
        return [DeliveryDecision.from_domain(d) for d in found]

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
            info.context.services.experiments.history, self.id, start, limit
        )
        return [ExperimentResults.from_domain(r) for r in snapshots]

    @field(description="Registry version of the champion arm (champion-challenger only).")
    async def champion_version(self, info: Info) -> str | None:
        return await self._arm_version(info, self.variants[0].model)

    @field(description="Registry version of the challenger arm (champion-challenger only).")
    async def challenger_version(self, info: Info) -> str | None:
        return await self._arm_version(info, self.variants[-1].model)

    async def _arm_version(self, info: Info, model: str) -> str | None:
        if not self.champion_challenger:
            return None
        if model.isdigit():
            return model
        try:
            return await asyncio.to_thread(info.context.services.registry.resolve, model)
        except NotFoundError:
            return None

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
            guardrails=list(e.spec.guardrails),
            champion_challenger=e.spec.champion_challenger,
            correction=e.spec.correction,
            min_users_per_variant=e.spec.min_users_per_variant,
            cuped_covariate=e.spec.cuped_covariate,
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


AGGREGATIONS = ("count", "sum", "mean", "binary")
CORRECTIONS = ("holm", "bh", "none")


@strawberry.input(description="A custom per-user metric over one event type.")
class MetricInput:
    name: str
    event_type: EventType
    aggregation: str = strawberry.field(default="count", description="count|sum|mean|binary")
    higher_is_better: bool = True

    def to_domain(self) -> core.MetricSpec:
        if self.aggregation not in AGGREGATIONS:
            raise InvalidInputError(
                f"metric {self.name!r}: aggregation must be one of {', '.join(AGGREGATIONS)}"
            )
        return core.MetricSpec(
            name=self.name,
            event_type=core.EventType(self.event_type),
            aggregation=self.aggregation,  # type: ignore[arg-type]
            higher_is_better=self.higher_is_better,
        )


def _correction(value: str | None) -> core.Correction:
    if value is None:
        return "holm"
    if value not in CORRECTIONS:
        raise InvalidInputError(f"correction must be one of {', '.join(CORRECTIONS)}")
    return value  # type: ignore[return-value]


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
    champion_challenger: bool = strawberry.field(
        default=False,
        description="First variant champion, last challenger: the delivery loop advances, "
        "promotes the challenger or rolls it back (auto-stop does not apply).",
    )
    guardrails: list[str] | None = strawberry.field(
        default=None, description="Metrics whose significant regression rolls back."
    )
    custom_metrics: list[MetricInput] | None = None
    correction: str | None = strawberry.field(
        default=None, description="Multiple-testing correction: holm (default), bh or none."
    )
    min_users_per_variant: int | None = strawberry.field(
        default=None, description="Users per arm before decisions (and per stage to advance)."
    )
    cuped_covariate: str | None = strawberry.field(
        default=None,
        description="Name of the pre-period metric whose per-user value is passed as the "
        "exposure covariate (CUPED); a label, CUPED applies whenever covariates vary.",
    )

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
            champion_challenger=self.champion_challenger,
            guardrails=tuple(self.guardrails or ()),
            custom_metrics=tuple(m.to_domain() for m in self.custom_metrics or ()),
            correction=_correction(self.correction),
            cuped_covariate=self.cuped_covariate,
        )
        if self.min_users_per_variant is not None:
            if self.min_users_per_variant < 1:
                raise InvalidInputError("minUsersPerVariant must be at least 1")
            spec = dataclasses.replace(spec, min_users_per_variant=self.min_users_per_variant)
        # Omitted metrics keep the core's default primary metric.
        return dataclasses.replace(spec, metrics=tuple(self.metrics)) if self.metrics else spec

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "strategy": str(self.strategy),
            "variants": [
                {"name": v.name, "model": v.model, "weight": v.weight} for v in self.variants
            ],
            "description": self.description,
            "coverage": self.coverage,
            "seed": self.seed,
            "hashVersion": self.hash_version,
            "stages": self.stages,
            "metrics": self.metrics,
            "targeting": self.targeting,
            "sequential": self.sequential,
            "autoStop": self.auto_stop,
            "alpha": self.alpha,
            "championChallenger": self.champion_challenger,
            "guardrails": self.guardrails,
            "customMetrics": [
                {
                    "name": m.name,
                    "eventType": str(m.event_type),
                    "aggregation": m.aggregation,
                    "higherIsBetter": m.higher_is_better,
                }
                for m in self.custom_metrics or ()
            ],
            "correction": self.correction,
            "minUsersPerVariant": self.min_users_per_variant,
            "cupedCovariate": self.cuped_covariate,
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
