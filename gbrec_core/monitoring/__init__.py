"""Online model metrics: what served versions earn in clicks, and whether that dropped.

Producer (the API): every recommendations response is logged by
``OnlineMonitor.served(request_id, version, book_ids)`` (an in-memory append, flushed to
Redis in the background) and feedback sent with its ``requestId`` through
``recordEvents`` is attributed by ``OnlineMonitor.attribute(events)``: a CLICK (or a
RATING >= 4) on a book the response showed counts once per (request, book), atomically
in Redis, for the version and hour that served it.

Consumer (the Dagster ``model_degradation_sensor``)::

    from gbrec_core.monitoring import assess, online_window, degradation
    counts = online_window(redis, model, version, start, end)   # WindowCounts: ctr, precision
    decision = degradation(recent, reference, threshold=0.1, alpha=0.01, min_requests=1000)
    assessment = assess(redis, settings, champion, reference_alternatives(registry, champion), now)

Key layout: :mod:`gbrec_core.monitoring.keys`.
"""

from __future__ import annotations

from gbrec_core.monitoring.assess import (
    Assessment,
    Windows,
    assess,
    reference_alternatives,
    windows,
)
from gbrec_core.monitoring.counts import OnlineMetric, WindowCounts, online_window
from gbrec_core.monitoring.decision import Decision, degradation, drop_p_value
from gbrec_core.monitoring.recorder import OnlineMonitor, feedback_of
from gbrec_core.monitoring.store import Attribution, OnlineStore

__all__ = [
    "Assessment",
    "Attribution",
    "Decision",
    "OnlineMetric",
    "OnlineMonitor",
    "OnlineStore",
    "WindowCounts",
    "Windows",
    "assess",
    "degradation",
    "drop_p_value",
    "feedback_of",
    "online_window",
    "reference_alternatives",
    "windows",
]
