"""Prometheus metrics of one API process, on a registry of its own.

A registry per app (not the global default) keeps test apps independent. Counters
the ModelServer and the index already keep (swaps, load failures, search latency)
are read from their ``stats()`` at scrape time by :class:`CoreCollector` rather than
mirrored, so there is one source of truth. With ``PROMETHEUS_MULTIPROC_DIR`` set,
``gbrec serve --workers N`` aggregates the worker processes' request metrics.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from strawberry.extensions import SchemaExtension

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

StatsSource = Callable[[], dict[str, Any]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gbrec_graphql_requests",
            "GraphQL operations by root field and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gbrec_graphql_request_seconds",
            "GraphQL operation latency by root field.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.recommendations = Counter(
            "gbrec_recommendations",
            "Recommendation lists served, by model version and experiment variant.",
            ["model_version", "variant", "fallback"],
            registry=self.registry,
        )
        self.similar_latency = Histogram(
            "gbrec_index_query_seconds",
            "similarBooks latency through the vector index.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.experiment_errors = Counter(
            "gbrec_experiment_routing_errors",
            "Requests served by the champion because experiment routing failed.",
            registry=self.registry,
        )

    def add_source(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry) + generate_latest(self.registry)
        return generate_latest(self.registry)


class CoreCollector(Collector):
    """Exports numeric entries of core ``stats()`` dicts as gauges at scrape time."""

    def __init__(self, sources: dict[str, StatsSource], redis_up: Callable[[], float]) -> None:
        self._sources = sources
        self._redis_up = redis_up

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("gbrec_redis_up", "1 when the last Redis ping succeeded.")
        up.add_metric([], self._redis_up())
        yield up
        for prefix, source in self._sources.items():
            try:
                stats = source()
            except Exception:
                continue
            yield from _gauges(prefix, stats)


def _gauges(prefix: str, stats: dict[str, Any]) -> Iterator[Metric]:
    for key, value in _flatten(stats):
        if isinstance(value, bool | int | float):
            name = f"gbrec_{prefix}_{key}"
            family = GaugeMetricFamily(name, f"{prefix} stats: {key}")
            family.add_metric([], float(value))
            yield family


def _flatten(stats: dict[str, Any], parent: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in stats.items():
        name = f"{parent}_{key}" if parent else str(key)
        name = "".join(c if c.isalnum() else "_" for c in name).lower()
        if isinstance(value, dict):
            yield from _flatten(value, name)
        else:
            yield name, value


class OperationMetrics(SchemaExtension):
    """Counts and times each operation by its root fields (one hook per request)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context.context
        metrics: Metrics | None = getattr(getattr(context, "services", None), "metrics", None)
        if metrics is None:
            return
        label = operation_label(
            self.execution_context.graphql_document, self.execution_context.operation_name
        )
        result = self.execution_context.result
        outcome = (
            "error"
            if (result is not None and result.errors) or self.execution_context.pre_execution_errors
            else "ok"
        )
        metrics.requests.labels(label, outcome).inc()
        metrics.latency.labels(label).observe(time.perf_counter() - started)


def operation_label(document: DocumentNode | None, operation_name: str | None) -> str:
    """Root field names of the executed operation (client-chosen names never become labels)."""
    if document is None:
        return "invalid"
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and (definition.name is None or definition.name.value != operation_name):
            continue
        names = sorted(
            {s.name.value for s in definition.selection_set.selections if isinstance(s, FieldNode)}
            & ROOT_FIELDS
        )
        return "+".join(names[:3]) if names else "other"
    return "invalid"


ROOT_FIELDS = frozenset(
    {
        "recommendations",
        "similarBooks",
        "book",
        "experiment",
        "experiments",
        "modelVersions",
        "servingModel",
        "vectorIndex",
        "auditLog",
        "createExperiment",
        "advanceExperiment",
        "stopExperiment",
        "recordEvents",
        "deployModel",
        "rollbackModel",
        "rebuildVectorIndex",
        "__schema",
        "__type",
        "__typename",
    }
)
