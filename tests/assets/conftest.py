"""Fixtures for the Dagster asset tests: tiny synthetic data in a temporary GBREC_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from gbrec_core.settings import Settings


@pytest.fixture(autouse=True)
def _quiet_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        yield inst


@pytest.fixture
def corrupt() -> object:
    return corrupt_ratings


@pytest.fixture
def tiny() -> object:
    return tiny_settings


def corrupt_ratings(source: Path, target: Path) -> Path:
    """Copy a dataset folder, adding a rating of 7, a negative id, a duplicate and junk."""
    target.mkdir(parents=True, exist_ok=True)
    for file in source.glob("*.csv"):
        (target / file.name).write_bytes(file.read_bytes())
    lines = (target / "ratings.csv").read_text().splitlines()
    user, book, _ = lines[1].split(",")
    lines[1] = f"{user},{book},7"
    user, book, rating = lines[2].split(",")
    lines[2] = f"-{user},{book},{rating}"
    lines.append(lines[3])
    lines.append("abc,xyz,4")
    (target / "ratings.csv").write_text("\n".join(lines) + "\n")
    return target


def tiny_settings(home: Path, **overrides: object) -> Settings:
    os.environ.pop("GBREC_DATASET", None)
    return Settings(home=home, synthetic_scale="tiny", index_shards=2, **overrides)  # type: ignore[arg-type]
