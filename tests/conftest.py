"""Shared fixtures: the real GoodBooks samples, a book catalogue and an isolated GBREC_HOME.

The real files and the GrowthBook vectors live in ``../shared/data`` beside the clone and
are never copied into the repo. Tests that only need *a* catalogue use ``catalogue_dir``,
which falls back to the tiny synthetic set; tests of facts only true of the real files ask
for ``goodbooks_dir`` and skip without it, except under ``CI=true``: CI provides the
folder, so there a missing one is a broken path and fails the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

from gbrec_core.data import generate
from gbrec_core.settings import Settings
from tests.redis_support import EMBEDDED_ONLY, TEST_REDIS_URL, fresh_client

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GOODBOOKS = SHARED / "goodbooks-10k"
GROWTHBOOK_CASES = SHARED / "growthbook" / "cases.json"


CATALOGUE_FILES = {
    "books.csv": "books.csv",
    "tags.csv": "tags.csv",
    "book_tags.csv": "samples/book_tags.csv",
}


def pytest_configure(config: pytest.Config) -> None:
    if TEST_REDIS_URL:  # see tests/redis_support.py
        os.environ["GBREC_REDIS_URL"] = TEST_REDIS_URL


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not TEST_REDIS_URL:
        return
    for item in items:
        if item.get_closest_marker("embedded_redis"):
            item.add_marker(pytest.mark.skip(reason=EMBEDDED_ONLY))


def shared_data_missing(reason: str) -> NoReturn:
    """Skip for lack of ``../shared/data``; under ``CI=true`` fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true provides ../shared beside the clone", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def goodbooks_dir() -> Path:
    """The real books.csv/tags.csv and 100-row samples (never copied into the repo)."""
    if not GOODBOOKS.is_dir():
        shared_data_missing(f"needs the real GoodBooks files, not found at {GOODBOOKS}")
    return GOODBOOKS


@pytest.fixture(scope="session")
def growthbook_cases() -> Path:
    if not GROWTHBOOK_CASES.is_file():
        shared_data_missing(f"needs the GrowthBook test vectors, not found at {GROWTHBOOK_CASES}")
    return GROWTHBOOK_CASES


@pytest.fixture(scope="session")
def catalogue_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with books.csv, tags.csv and book_tags.csv (read-only for tests).

    The real files (symlinked, book_tags.csv is the 100-row sample) when
    ``../shared/data`` is present, else the tiny synthetic set generated once per session.
    """
    if not GOODBOOKS.is_dir():
        return generate("tiny", tmp_path_factory.mktemp("catalogue-synthetic"), seed=42)
    folder = tmp_path_factory.mktemp("catalogue-real")
    for name, source in CATALOGUE_FILES.items():
        (folder / name).symlink_to(GOODBOOKS / source)
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings rooted in a fresh temporary GBREC_HOME with the tiny synthetic set."""
    return Settings(home=tmp_path / "gbrec-home", synthetic_scale="tiny")


@pytest.fixture
def redis_client(settings: Settings):  # type: ignore[no-untyped-def]
    """A client of the embedded redis-server of this test's GBREC_HOME, stopped afterwards
    (the server is a daemon shared by every process using the home, so it would outlive
    the test unless stopped here); or of GBREC_TEST_REDIS_URL, emptied first."""
    yield from fresh_client(settings)
