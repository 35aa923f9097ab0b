"""Has a version's online metric dropped? A one-sided large-sample test on two windows.

Degraded means all three: both windows hold at least ``min_requests`` requests, the
recent value is more than ``threshold`` (relative) below the reference, and the drop
is significant at ``alpha`` (z = diff / se with the request as the unit, p = Phi(z),
H0: no drop). A relative drop alone would fire on noise at low traffic; significance
alone would fire on tiny but real drops at high traffic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from gbrec_core.monitoring.counts import OnlineMetric, WindowCounts

Verdict = Literal["not_enough_traffic", "no_feedback", "no_drop", "not_significant", "degraded"]


@dataclass(frozen=True)
class Decision:
    """The verdict, the numbers behind it and one sentence saying why."""

    verdict: Verdict
    reason: str
    metric: OnlineMetric
    recent: WindowCounts
    reference: WindowCounts
    recent_value: float | None = None
    reference_value: float | None = None
    relative_drop: float | None = None
    p_value: float | None = None

    @property
    def degraded(self) -> bool:
        return self.verdict == "degraded"


def drop_p_value(recent: WindowCounts, reference: WindowCounts, metric: OnlineMetric) -> float:
    """One-sided p-value of "recent is below reference" (normal approximation)."""
    r, c = recent.sample(metric), reference.sample(metric)
    diff = float(r.mean - c.mean)
    se = math.sqrt(float(r.var / r.n + c.var / c.n))
    if not se > 0:  # no variance on either side: the difference is exact
        return 0.0 if diff < 0 else 1.0
    return 0.5 * math.erfc(-diff / se / math.sqrt(2.0))  # Phi(diff / se)


def degradation(
    recent: WindowCounts,
    reference: WindowCounts,
    *,
    threshold: float,
    alpha: float,
    min_requests: int,
    metric: OnlineMetric = "ctr",
) -> Decision:
    """Compare ``recent`` with ``reference`` on ``metric`` (see the module docstring)."""
    empty = Decision("not_enough_traffic", "", metric, recent, reference)
    if min(recent.requests, reference.requests) < max(min_requests, 2):
        return replace(
            empty,
            reason=f"not enough traffic: {recent.requests} recent and {reference.requests} "
            f"reference requests (need {min_requests} each)",
        )
    now, before = recent.value(metric), reference.value(metric)
    if now is None or before is None or before <= 0:
        return replace(
            empty,
            verdict="no_feedback",
            reason=f"no feedback in the reference window ({metric} 0 over "
            f"{reference.requests} requests): do clients send CLICK events with the requestId?",
        )
    drop = (before - now) / before
    p = drop_p_value(recent, reference, metric)
    measured = replace(
        empty, recent_value=now, reference_value=before, relative_drop=drop, p_value=p
    )
    numbers = f"{metric} {now:.4f} vs {before:.4f} (drop {drop:.1%}, p={p:.3g})"
    if drop <= threshold:
        return replace(
            measured, verdict="no_drop", reason=f"no drop beyond {threshold:.0%}: {numbers}"
        )
    if p >= alpha:
        return replace(
            measured,
            verdict="not_significant",
            reason=f"drop not significant at alpha {alpha:g}: {numbers}",
        )
    return replace(measured, verdict="degraded", reason=f"degraded: {numbers}")
