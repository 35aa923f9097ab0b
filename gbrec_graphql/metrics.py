"""Prometheus metrics of one API process, on a registry of its own.

A registry per app (not the global default) keeps test apps independent. Counters
the ModelServer and the index already keep (swaps, load failures, search latency)
are read from their ``stats()`` at scrape time by :class:`CoreCollector` rather than
mirrored, so there is one source of truth. With ``PROMETHEUS_MULTIPROC_DIR`` set,
``gbrec serve --workers N`` aggregates the worker processes' request metrics.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

StatsSource = Callable[[], dict[str, Any]]
OPERATION_LABEL_CACHE = 1024
OPERATION_LABEL_MAX_QUERY = 4096


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
        self.exposure_errors = Counter(
            "gbrec_experiment_exposure_errors",
            "Exposures neither written nor buffered (experiment store down, buffer full).",
            registry=self.registry,
        )
        self.variant_fallbacks = Counter(
            "gbrec_experiment_variant_fallbacks",
            "Experiment requests answered by the champion because the variant's model "
            "could not serve; no exposure is recorded for them.",
            ["experiment", "variant", "reason"],
            registry=self.registry,
        )
        self.online_attribution_errors = Counter(
            "gbrec_online_attribution_errors",
            "recordEvents calls whose online-metric attribution failed (Redis errors).",
            registry=self.registry,
        )
        self.fast_path_fallbacks = FastPathFallbacks(self.registry)

        # Label lookups are cached: prometheus' labels() takes a lock and builds a key on
        # every call, and the root-field label would otherwise be re-derived per request.
        self._operations: dict[tuple[str | None, str | None], str] = {}
        self._children: dict[tuple[str, bool], tuple[Any, Any]] = {}
        self._served: dict[tuple[str, str, bool], Any] = {}

    def observe_operation(
        self,
        query: str | None,
        document: DocumentNode | None,
        operation_name: str | None,
        failed: bool,
        started: float,
    ) -> str:
        """Count and time one operation, labelled by its root fields; the label."""
        key = (query, operation_name)
        label = self._operations.get(key)
        if label is None:
            label = operation_label(document, operation_name)
            # Unparsable or huge texts are not worth remembering (memory is bounded).
            if document is not None and len(query or "") <= OPERATION_LABEL_MAX_QUERY:
                if len(self._operations) >= OPERATION_LABEL_CACHE:
                    self._operations.clear()
                self._operations[key] = label
        children = self._children.get((label, failed))
        if children is None:
            outcome = "error" if failed else "ok"
            children = (self.requests.labels(label, outcome), self.latency.labels(label))
            self._children[(label, failed)] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)
        return label

    def served(self, model_version: str, variant: str, fallback: bool) -> None:
        """Count one recommendation list."""
        key = (model_version, variant, fallback)
        child = self._served.get(key)
        if child is None:
            child = self.recommendations.labels(model_version, variant, str(fallback).lower())
            self._served[key] = child
        child.inc()

    # the rest of gbrec_core.serving.ServingObserver ------------------------------------------
    def routing_failed(self, experiment_id: str) -> None:
        self.experiment_errors.inc()

    def arm_fallback(self, experiment_id: str, variant: str, reason: str) -> None:
        self.variant_fallbacks.labels(experiment_id, variant, reason).inc()

    def exposure_failed(self, experiment_id: str) -> None:
        self.exposure_errors.inc()

    def similar_searched(self, seconds: float) -> None:
        self.similar_latency.observe(seconds)

    def attribution_failed(self) -> None:
        self.online_attribution_errors.inc()

    def add_source(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry) + generate_latest(self.registry)
        return generate_latest(self.registry)


class FastPathFallbacks(Collector):
    """Requests the compiled or plain-field fast path handed back to graphql-core.

    A hand-back is never wrong (graphql-core then answers, exactly), but it is slower,
    and an unexpected one can hide a bug in generated code: each is counted by path and
    reason (``gbrec_graphql_fast_path_fallbacks_total``), and the first of each reason
    in a process is logged at WARNING with its exception.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "gbrec_graphql_fast_path_fallbacks",
            "Fast-path requests or objects handed back to graphql-core, by path and reason.",
            ["path", "reason"],
            registry=registry,
        )
        #: Requests answered through a compiled plan (a plain int on the hot path: a
        #: Prometheus counter takes a lock per increment); exported by collect().
        self.compiled = 0
        self._seen: set[tuple[str, str]] = set()
        registry.register(self)

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "gbrec_graphql_compiled_requests",
            "GraphQL requests answered through a compiled plan.",
            value=self.compiled,
        )

    def record(self, path: str, reason: str, error: BaseException | None = None) -> None:
        self.counter.labels(path, reason).inc()
        if (path, reason) not in self._seen:
            self._seen.add((path, reason))
            log.warning(
                "GraphQL %s fast path fell back to graphql-core (%s); counted in "
                "gbrec_graphql_fast_path_fallbacks_total, logged once per reason",
                path,
                reason,
                exc_info=error,
            )

    def total(self) -> float:
        return sum(
            sample.value
            for metric in self.counter.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )


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
            except Exception:  # a scrape must not fail for one broken source: log it
                log.exception("metrics source %s failed; its gauges are missing", prefix)
                continue
            yield from _gauges(prefix, stats)


ONLINE_HELP = {
    "dropped": "Served responses dropped from the full online-metrics buffer (Redis down).",
    "recorded": "Served responses written to Redis for the online metrics.",
    "duplicates": "Served responses already in Redis when written (replayed batches).",
    "invalid": "Served responses with an unusable request id or version, not written.",
    "flush_errors": "Failed writes of the online-metrics buffer to Redis.",
    "feedback_attributed": "Clicks/positive ratings counted for the response that showed the book.",
    "feedback_duplicates": "Feedback on a book already counted for that response.",
    "feedback_not_shown": "Feedback on a book the response did not show.",
    "feedback_unknown": "Feedback whose requestId is unknown or past the attribution window.",
    "feedback_unsampled": "Feedback on responses left out by GBREC_ONLINE_SAMPLE_RATE.",
}


class OnlineCollector(Collector):
    """The online monitor's counters (``gbrec_online_*_total``) and its buffer length."""

    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        self._stats = stats

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        buffered = GaugeMetricFamily(
            "gbrec_online_buffered", "Served responses waiting in memory to be written to Redis."
        )
        buffered.add_metric([], float(stats.get("buffered", 0)))
        yield buffered
        for name, help_text in ONLINE_HELP.items():
            yield CounterMetricFamily(f"gbrec_online_{name}", help_text, value=stats.get(name, 0))


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
        "deleteUser",
        "__schema",
        "__type",
        "__typename",
    }
)
