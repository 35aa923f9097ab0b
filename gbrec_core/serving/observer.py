"""What serving reports as it works: the hooks an entry point turns into metrics.

The recommendation service counts through a :class:`ServingObserver` so that the core
stays free of any metrics library: the API implements it with Prometheus counters, the
CLI and tests with :class:`CountingObserver`. Every hook is on the request path and
must be cheap (a counter increment).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol


class ServingObserver(Protocol):
    def served(self, model_version: str, variant: str, fallback: bool) -> None:
        """One recommendation list answered (``variant`` is "" outside experiments)."""

    def routing_failed(self, experiment_id: str) -> None:
        """Experiment routing could not run (store down): the champion answered."""

    def arm_fallback(self, experiment_id: str, variant: str, reason: str) -> None:
        """An experiment arm's model could not serve: the champion answered."""

    def exposure_failed(self, experiment_id: str) -> None:
        """An exposure was neither written nor buffered (store down, buffer full)."""

    def similar_searched(self, seconds: float) -> None:
        """One similar-book search took ``seconds``."""

    def attribution_failed(self) -> None:
        """Feedback could not be attributed to served responses (store down)."""


class CountingObserver:
    """A :class:`ServingObserver` that keeps plain counts (the CLI, tests)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.fallbacks: Counter[tuple[str, str, str]] = Counter()

    def served(self, model_version: str, variant: str, fallback: bool) -> None:
        self.counts["served"] += 1

    def routing_failed(self, experiment_id: str) -> None:
        self.counts["routing_failed"] += 1

    def arm_fallback(self, experiment_id: str, variant: str, reason: str) -> None:
        self.fallbacks[(experiment_id, variant, reason)] += 1

    def exposure_failed(self, experiment_id: str) -> None:
        self.counts["exposure_failed"] += 1

    def similar_searched(self, seconds: float) -> None:
        self.counts["similar"] += 1

    def attribution_failed(self) -> None:
        self.counts["attribution_failed"] += 1
