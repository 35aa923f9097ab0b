"""Fixtures of the production profile: PostgreSQL + Redis over TCP started by
``scripts/production/run.sh`` (``make test-production``), which exports
``GBREC_PRODUCTION_PROFILE=1`` and the connection settings. Without it every test here
is skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gbrec_process import ApiProcess, create_key, gbrec_env, run_gbrec

from .production_profile import PROFILE, SKIP_REASON

REQUIRED = (
    "GBREC_REDIS_URL",
    "GBREC_MLFLOW_TRACKING_URI",
    "GBREC_MLFLOW_ARTIFACT_ROOT",
    "DAGSTER_HOME",
    "DAGSTER_POSTGRES_HOST",
    "DAGSTER_POSTGRES_PORT",
    "DAGSTER_POSTGRES_USER",
    "DAGSTER_POSTGRES_PASSWORD",
)
MATERIALIZE_TIMEOUT_S = 900.0


def pytest_configure(config: pytest.Config) -> None:
    # Also registered in pyproject.toml; repeating it keeps --strict-markers happy either way.
    config.addinivalue_line(
        "markers", "production: needs the production profile (make test-production)"
    )


@pytest.fixture(scope="session")
def profile() -> dict[str, str]:
    if not PROFILE:
        pytest.skip(SKIP_REASON)
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(f"GBREC_PRODUCTION_PROFILE is set but {', '.join(missing)} is not")
    return gbrec_env()


@pytest.fixture(scope="session")
def materialized(profile: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``gbrec materialize`` once: data, models, MLflow (Postgres) and Dagster runs (Postgres).

    Returns the folder of the materialised data set, which the API processes read.
    """
    log = tmp_path_factory.mktemp("materialize") / "materialize.log"
    result = run_gbrec(["materialize"], profile, timeout=MATERIALIZE_TIMEOUT_S, log=log)
    if result.returncode != 0:
        pytest.fail(f"gbrec materialize exited {result.returncode}:\n{log.read_text()[-4000:]}")
    scale = profile.get("GBREC_SYNTHETIC_SCALE", "tiny")
    data = Path(profile["GBREC_HOME"]) / "data" / f"synthetic-{scale}"
    assert (data / "books.csv").is_file(), f"no data set under {data}"
    return data


@pytest.fixture(scope="session")
def keys(materialized: Path, profile: dict[str, str]) -> dict[str, str]:
    return {scope: create_key(profile, scope) for scope in ("admin", "events")}


@pytest.fixture(scope="session")
def apis(
    materialized: Path, profile: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    """Two ``gbrec serve`` processes on different free ports.

    Each has its own GBREC_HOME (its own disk cache and index folder), as two hosts
    would: all they share is Redis over TCP and the MLflow registry on PostgreSQL.
    """
    started: list[ApiProcess] = []
    read = create_key(profile, "read")  # production mode: reads need a key
    try:
        for name in ("api-a", "api-b"):
            folder = tmp_path_factory.mktemp(name)
            env = {
                **profile,
                "GBREC_HOME": str(folder / "home"),
                "GBREC_DATASET": str(materialized),
            }
            started.append(ApiProcess(env, folder / "serve.log", read_key=read).start())
        yield started[0], started[1]
    finally:
        for api in started:
            api.stop()
