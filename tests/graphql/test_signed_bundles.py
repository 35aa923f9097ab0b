"""Tampered model bundles are refused on deployModel and the old champion keeps serving.

The bundle is edited where it is stored (the file artifact root), as someone with
write access to the artifact store would: one byte of an array file, or the manifest
rewritten to agree with an edited file (which only the signature catches).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry

from .conftest import Api

SERVING = "{ servingModel { version } }"


def register(api: Api, seed: int) -> str:
    registry = ModelRegistry(api.settings)
    seen = api.seen.sample(frac=0.9, random_state=seed)
    model = make_recommender("popularity").fit(seen)
    fp = {"sha256": f"signed-{seed}", "rows": len(seen), "users": 200, "books": 300}
    run_id = registry.log_training_run(model, {"ndcg": 0.05}, {"model": "popularity"}, fp)
    return registry.register(run_id).version


def stored_bundle(api: Api, version: str) -> Path:
    """The bundle in the file artifact root: under the version's logged model."""
    source = ModelRegistry(api.settings).version(version).source
    bundle = Path(urlparse(str(source)).path) / "artifacts" / "bundle"
    assert bundle.is_relative_to(Path(urlparse(api.settings.artifact_root).path))
    return bundle


def flip_one_byte(bundle: Path) -> None:
    arrays = bundle / "fallback.npz"
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0xFF
    arrays.write_bytes(bytes(data))


def rewrite_manifest(bundle: Path) -> None:
    """Edit an array, then make the manifest agree with it (a checksum can't tell)."""
    np.savez(bundle / "fallback.npz", book_ids=np.arange(1, 4), scores=np.ones(3))
    manifest = json.loads((bundle / "bundle.json").read_text())
    digest = hashlib.sha256((bundle / "fallback.npz").read_bytes()).hexdigest()
    manifest["files"]["fallback.npz"] = digest
    (bundle / "bundle.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


@pytest.mark.parametrize(
    ("tamper", "failure", "message"),
    [
        (flip_one_byte, "load_failures", "fallback.npz differ"),
        (rewrite_manifest, "signature_failures", "wrong signature"),
    ],
)
def test_tampered_bundle_is_refused_and_the_champion_keeps_serving(
    api: Api, tamper: Callable[[Path], None], failure: str, message: str
) -> None:
    registry = ModelRegistry(api.settings)
    before = api.gql(SERVING)["data"]["servingModel"]["version"]
    champion = registry.champion_version()
    metrics_before = _gauge(api, f"gbrec_serving_{failure}")
    version = register(api, 21 if failure == "load_failures" else 22)
    tamper(stored_bundle(api, version))

    body = api.gql(f'mutation {{ deployModel(version: "{version}") {{ version }} }}', key="admin")

    assert body["data"] is None and message in body["errors"][0]["message"]
    if failure == "signature_failures":
        assert body["errors"][0]["extensions"]["code"] == "INTEGRITY"
    assert registry.champion_version() == champion  # a refused load never moves the alias
    assert api.gql(SERVING)["data"]["servingModel"]["version"] == before
    recs = api.gql("{ recommendations(userId: 5, limit: 3) { modelVersion } }")
    assert recs["data"]["recommendations"]["modelVersion"] == before
    assert _gauge(api, f"gbrec_serving_{failure}") == metrics_before + 1


def _gauge(api: Api, name: str) -> float:
    text = api.client.get("/metrics").text
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])
