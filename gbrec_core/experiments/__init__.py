"""A/B experimentation: GrowthBook-compatible assignment, Redis aggregates, sequential stats.

Entry point: :class:`ExperimentService` (``gbrec_core.experiments.service``). See
docs/experiments.md for the design and the statistics.
"""

from __future__ import annotations

from gbrec_core.experiments.decisions import DecisionEvent, DecisionHook
from gbrec_core.experiments.service import ExperimentService
from gbrec_core.experiments.store import ExposureRow
from gbrec_core.experiments.types import (
    Assignment,
    Event,
    EventType,
    Experiment,
    ExperimentResults,
    ExperimentSpec,
    ExperimentStatus,
    MetricResult,
    MetricSpec,
    RecordResult,
    RouteDecision,
    Strategy,
    VariantSpec,
    VariantStats,
)

__all__ = [
    "Assignment",
    "DecisionEvent",
    "DecisionHook",
    "Event",
    "EventType",
    "Experiment",
    "ExperimentResults",
    "ExperimentService",
    "ExperimentSpec",
    "ExperimentStatus",
    "ExposureRow",
    "MetricResult",
    "MetricSpec",
    "RecordResult",
    "RouteDecision",
    "Strategy",
    "VariantSpec",
    "VariantStats",
]
