"""The disk cache holds signed copies: an edited copy is refused, counted and refetched;
with the registry unreachable it is not served at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gbrec_core.errors import SignatureError
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import ModelServer

from .serving_fixtures import Fleet

SetChampion = Callable[[str], None]


def edit_cached_manifest(server: ModelServer, version: str) -> None:
    manifest = server.disk.path(version) / "bundle.json"
    raw = json.loads(manifest.read_text())
    raw["model"] = "something-else"
    manifest.write_text(json.dumps(raw))


def test_edited_cache_copy_is_refetched_from_the_registry(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    first = fleet.server(tmp_path / "host")
    first.start(watch=False)
    expected = first.recommend(5)
    edit_cached_manifest(first, "1")

    restarted = fleet.server(tmp_path / "host")
    restarted.start(watch=False)
    assert restarted.recommend(5) == expected
    assert restarted.stats()["disk_cache_rejected"] == {"signature": 1}
    assert json.loads((restarted.disk.path("1") / "bundle.json").read_text())["model"] != (
        "something-else"
    )


def test_edited_cache_copy_is_not_served_while_the_registry_is_down(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    first = fleet.server(tmp_path / "host")
    first.start(watch=False)
    edit_cached_manifest(first, "1")
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    settings = fleet.server_settings(
        tmp_path / "host", mlflow_tracking_uri=f"sqlite:///{blocker}/mlflow.db"
    )
    offline = ModelServer(settings, ModelRegistry(settings))
    offline.start(watch=False)
    assert offline.serving_version().version != "1"
    assert offline.stats()["disk_cache_rejected"] == {"signature": 1}


def test_bundle_signed_with_another_key_is_refused_and_counted(
    fleet: Fleet, with_champion: SetChampion, tmp_path: Path
) -> None:
    with_champion("1")
    server = fleet.server(tmp_path / "host", signing_key="a different deployment's key")
    server.start(watch=False)
    assert server.serving_version().version != "1"
    with pytest.raises(SignatureError, match="wrong signature"):
        server.deploy("2")
    stats = server.stats()
    assert stats["signature_failures"] == 2 and "wrong signature" in stats["last_load_error"]
    assert fleet.registry.champion_version() == "1"
