"""Both Dagster instance files (local and the compose stack's) load and enable the same
features: every module/class they name imports, freshness and sensor-based automation
are on, runs are queued, and each tag concurrency limit matches a tag a job sets."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gbrec_assets.jobs import retrain_job, rollback_job

ROOT = Path(__file__).resolve().parents[2]
FILES = {"local": ROOT / "dagster.yaml", "compose": ROOT / "docker" / "dagster.yaml"}


def load(name: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(FILES[name].read_text())
    return config


def classes(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        if "module" in node and "class" in node:
            yield node["module"], node["class"]
        for value in node.values():
            yield from classes(value)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_named_class_imports(name: str) -> None:
    found = list(classes(load(name)))
    assert found, name
    for module, cls in found:
        assert hasattr(importlib.import_module(module), cls), f"{name}: {module}.{cls}"


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_same_features_are_enabled(name: str) -> None:
    config = load(name)
    assert config["freshness"] == {"enabled": True}
    assert config["auto_materialize"]["use_sensors"] is True
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


@pytest.mark.parametrize("name", sorted(FILES))
def test_tag_limits_match_tags_that_runs_carry(name: str) -> None:
    tags = {(k, v) for job in (retrain_job, rollback_job) for k, v in job.tags.items()}
    limits = load(name)["run_coordinator"]["config"].get("tag_concurrency_limits", [])
    for limit in limits:
        assert (limit["key"], limit["value"]) in tags, limit
