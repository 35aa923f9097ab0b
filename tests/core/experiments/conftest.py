"""Fixtures for experiment tests: a real embedded Redis per test and a service on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gbrec_core.experiments import ExperimentService
from gbrec_core.settings import Settings
from gbrec_core.store import RedisClient
from tests.redis_support import fresh_client


@pytest.fixture
def exp_settings(settings: Settings) -> Settings:
    # snapshot on every results() call so history is observable in tests
    return settings.model_copy(update={"experiment_snapshot_seconds": 0.0})


@pytest.fixture
def redis_conn(exp_settings: Settings) -> Iterator[RedisClient]:
    yield from fresh_client(exp_settings)


@pytest.fixture
def service(exp_settings: Settings, redis_conn: RedisClient) -> ExperimentService:
    return ExperimentService(exp_settings, redis_conn)


@pytest.fixture(scope="session")
def gb_cases(growthbook_cases: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(growthbook_cases.read_text())
    return data
