"""Live (online) model metrics in Redis, read by the Dagster degradation sensor.

Whoever measures a served version online (the API from feedback events, an
experiment job) records the metric here; the degradation sensor compares it with
the offline evaluation of the same metric and requests a retrain when it dropped
by more than ``GBREC_DEGRADATION_THRESHOLD`` (relative).

Layout: one hash per model version, ``gbrec:online:<model name>:<version>``, with one
field per metric name (float as text) and ``updated_at`` (epoch seconds).
"""

from __future__ import annotations

import time
from typing import Any

PREFIX = "gbrec:online:"


def online_key(model_name: str, version: str) -> str:
    return f"{PREFIX}{model_name}:{version}"


def record_online_metric(
    redis: Any, model_name: str, version: str, metric: str, value: float
) -> None:
    """Store the latest online value of ``metric`` for ``version``."""
    redis.hset(
        online_key(model_name, version),
        mapping={metric: repr(float(value)), "updated_at": repr(time.time())},
    )


def read_online_metric(redis: Any, model_name: str, version: str, metric: str) -> float | None:
    """The latest online value of ``metric`` for ``version``, or None when never recorded."""
    raw = redis.hget(online_key(model_name, version), metric)
    return None if raw is None else float(raw)


def relative_drop(offline: float, online: float) -> float:
    """How much lower ``online`` is than ``offline``, as a fraction of ``offline`` (>= 0)."""
    if offline <= 0:
        return 0.0
    return max(0.0, (offline - online) / offline)
