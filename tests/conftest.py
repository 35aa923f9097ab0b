"""Shared fixtures: the real GoodBooks samples and an isolated GBREC_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbrec_core.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GOODBOOKS = SHARED / "goodbooks-10k"
GROWTHBOOK_CASES = SHARED / "growthbook" / "cases.json"


@pytest.fixture(scope="session")
def goodbooks_dir() -> Path:
    """The real books.csv/tags.csv and 100-row samples (never copied into the repo)."""
    if not GOODBOOKS.is_dir():
        pytest.skip(f"real GoodBooks files not found at {GOODBOOKS}")
    return GOODBOOKS


@pytest.fixture(scope="session")
def growthbook_cases() -> Path:
    if not GROWTHBOOK_CASES.is_file():
        pytest.skip(f"GrowthBook test vectors not found at {GROWTHBOOK_CASES}")
    return GROWTHBOOK_CASES


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted in a fresh temporary GBREC_HOME with the tiny synthetic set."""
    return Settings(home=tmp_path / "gbrec-home", synthetic_scale="tiny")


@pytest.fixture
def redis_client(settings: Settings):  # type: ignore[no-untyped-def]
    """A client of the embedded redis-server of this test's GBREC_HOME, stopped afterwards.

    The server is a daemon shared by every process using the home, so it would outlive
    the test unless stopped here.
    """
    from gbrec_core.store import connect, stop_server

    client = connect(settings)
    yield client
    client.close()
    stop_server(settings)
