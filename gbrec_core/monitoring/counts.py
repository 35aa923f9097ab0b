"""Online counts of one model version over a time window, and its two metrics.

The unit of analysis is the served response (a request): ``ctr`` is the share of
requests with at least one click (or positive rating) on a book they showed;
``precision`` is distinct clicked shown books over shown books, a ratio of per-request
sums whose variance comes from the delta method (books of one list are not independent
draws, so a plain proportion test on books would be overconfident).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, cast

from gbrec_core.experiments.stats import Sample, ratio_sample, sample_from_sums
from gbrec_core.monitoring.keys import buckets_between, counts_key
from gbrec_core.settings import OnlineMetricName

OnlineMetric = OnlineMetricName
FIELDS = ("requests", "shown", "shown_sq", "clicked", "hits", "hits_sq", "hits_shown")


@dataclass(frozen=True)
class WindowCounts:
    """Sums over the requests a version served in a window (feedback included)."""

    requests: int = 0
    shown: int = 0
    shown_sq: int = 0
    clicked: int = 0
    hits: int = 0
    hits_sq: int = 0
    hits_shown: int = 0

    def __add__(self, other: WindowCounts) -> WindowCounts:
        return WindowCounts(*(getattr(self, f) + getattr(other, f) for f in FIELDS))

    @property
    def ctr(self) -> float | None:
        """Requests with at least one click / requests (None without requests)."""
        return self.clicked / self.requests if self.requests else None

    @property
    def precision(self) -> float | None:
        """Distinct clicked shown books / shown books (None when nothing was shown)."""
        return self.hits / self.shown if self.shown else None

    def value(self, metric: OnlineMetric) -> float | None:
        return self.ctr if metric == "ctr" else self.precision

    def sample(self, metric: OnlineMetric) -> Sample:
        """Sufficient statistics of ``metric`` with the request as the unit."""
        if metric == "ctr":  # a 0/1 value per request: sum of squares = sum
            return sample_from_sums(self.requests, self.clicked, self.clicked)
        return ratio_sample(
            self.requests, self.hits, self.shown, self.hits_sq, self.shown_sq, self.hits_shown
        )

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def from_hash(raw: dict[str, Any]) -> WindowCounts:
    return WindowCounts(*(int(raw.get(f, 0) or 0) for f in FIELDS))


def online_window(
    redis: Any, model_name: str, version: str, start: float, end: float
) -> WindowCounts:
    """Counts of the responses ``version`` served in hours starting in ``[start, end)``
    (epoch seconds), with the feedback attributed to them so far. One pipelined read."""
    pipe = redis.pipeline(transaction=False)
    buckets = buckets_between(start, end)
    for bucket in buckets:
        pipe.hmget(counts_key(model_name, version, bucket), list(FIELDS))
    total = WindowCounts()
    for values in cast(list[list[str | None]], pipe.execute() if buckets else []):
        total = total + from_hash(dict(zip(FIELDS, values, strict=True)))
    return total
