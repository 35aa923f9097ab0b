"""The API serves the pipeline's sharded index, degrades to exact search and rebuilds.

Own GBREC_HOME (the index state is what these tests change): ALS v1, popularity v2 as
champion, and v2's pipeline layout written as the ``vector_index`` asset writes it,
one partition at a time from ALS vectors (popularity has none, like EASE).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.access.secret_keys import signing_key
from gbrec_core.access.signing import Signer
from gbrec_core.index import (
    EMBEDDINGS_DIR,
    build_shard,
    fingerprint,
    load_embeddings,
    load_index,
    make_index,
    save_embeddings_shard,
)
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app

from .conftest import Api, api_settings, catalogue, ratings, register_models

SHARDS = 3
STATS = """{ vectorIndex { available backend kind shards vectors memoryBytes latencyP50Ms
  latencyP99Ms searches modelVersion vectorSource state builtBy rebuilding error } }"""
SIMILAR = "query($b: Int!) { similarBooks(bookId: $b, limit: 8) { score book { id } } }"
DEPLOY = "mutation($v: String!) { deployModel(version: $v) { version } }"
REBUILD = "mutation { rebuildVectorIndex { modelVersion kind shards vectors vectorSource } }"


def write_pipeline_layout(settings: Settings, version: str, ids: np.ndarray, vecs: Any) -> Path:
    """What the vector_index asset writes for ``version``, partition by partition."""
    root = settings.index_dir / version
    meta = {"model_version": version, "source": "als_model", "fingerprint": fingerprint(ids, vecs)}
    signer = Signer(signing_key(settings))  # the asset signs with the deployment's key
    for shard in range(SHARDS):
        save_embeddings_shard(
            root / EMBEDDINGS_DIR, ids, vecs, shard=shard, shards=SHARDS, meta=meta, signer=signer
        )
        kind = settings.index_kind
        build_shard(
            root / kind, kind, ids, vecs, shard=shard, shards=SHARDS, meta=meta, signer=signer
        ).close()
    return root


@pytest.fixture(scope="module")
def index_api(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("index-api")
    settings = api_settings(root / "home", catalogue(catalogue_dir, root / "data"))
    seen = ratings(seed=11)
    register_models(settings, seen)
    ModelRegistry(settings).promote("2", force=True)  # popularity: no item vectors
    als = make_recommender("als", factors=8, iterations=3, num_threads=1, seed=5).fit(seen)
    vectors = als.item_vectors()
    assert vectors is not None
    write_pipeline_layout(settings, "2", vectors.book_ids, vectors.vectors)
    keys = {s.label: create_key(connect(settings), s).key for s in Scope}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, keys, seen)
    stop_server(settings)


def stats(api: Api) -> dict[str, Any]:
    body = api.gql(STATS)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["vectorIndex"]
    return result


def exact_similar(api: Api, version: str, book: int, k: int = 8) -> tuple[list[int], np.ndarray]:
    """Oracle: exact inner-product search over the stored embeddings, the book excluded."""
    stored = load_embeddings(api.settings.index_dir / version / EMBEDDINGS_DIR)
    oracle = make_index("exact", dim=int(stored.vectors.shape[1]))
    oracle.add(stored.book_ids, stored.vectors)
    query = stored.vector_of(book)
    assert query is not None
    ids, scores = oracle.search(query, k, exclude=[[book]])
    return [int(i) for i in ids[0]], scores[0]


def assert_served_exactly(api: Api, version: str, books: list[int]) -> None:
    for book in books:
        items = api.gql(SIMILAR, {"b": book})["data"]["similarBooks"]
        want_ids, want_scores = exact_similar(api, version, book)
        assert [i["book"]["id"] for i in items] == want_ids, book
        np.testing.assert_allclose([i["score"] for i in items], want_scores, rtol=1e-4, atol=1e-5)


def corrupt_shard(api: Api, version: str, shard: int) -> Path:
    folder = api.settings.index_dir / version / api.settings.index_kind / f"shard-{shard}"
    victim = next(p for p in folder.iterdir() if p.suffix == ".faiss")
    raw = bytearray(victim.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 16] = bytes(b ^ 0xFF for b in raw[middle : middle + 16])
    victim.write_bytes(bytes(raw))
    return victim


def swap_to(api: Api, version: str) -> None:
    body = api.gql(DEPLOY, {"v": version}, key="admin")
    assert body["data"]["deployModel"]["version"] == version, body
    assert api.client.app.state.services.indexes.wait_idle(60)  # type: ignore[attr-defined]


BOOKS = [1, 2, 3, 10, 25]


def test_pipeline_index_is_served_and_reported(index_api: Api) -> None:
    info = stats(index_api)
    assert info["available"] and info["state"] == "healthy" and info["modelVersion"] == "2"
    assert info["shards"] == SHARDS and info["vectors"] > 100 and info["kind"] == "faiss-flat"
    assert info["vectorSource"] == "als_model" and info["builtBy"] == "pipeline"
    assert info["memoryBytes"] > 0 and info["error"] is None
    assert_served_exactly(index_api, "2", BOOKS)
    after = stats(index_api)
    assert after["searches"] >= len(BOOKS) and after["latencyP50Ms"] <= after["latencyP99Ms"]


def test_swaps_load_each_versions_index(index_api: Api) -> None:
    swap_to(index_api, "1")  # ALS has its own vectors; no pipeline layout: the API builds one
    info = stats(index_api)
    assert info["modelVersion"] == "1" and info["vectorSource"] == "v1"
    assert info["builtBy"] == "api" and info["shards"] == 2 and info["state"] == "healthy"
    assert (index_api.settings.index_dir / "1" / "faiss-flat" / "shards.json").is_file()
    assert_served_exactly(index_api, "1", BOOKS[:2])
    swap_to(index_api, "2")
    info = stats(index_api)
    assert info["modelVersion"] == "2" and info["builtBy"] == "pipeline"
    assert_served_exactly(index_api, "2", BOOKS[:2])


def test_corrupted_shard_degrades_to_exact_search_then_rebuild_heals(index_api: Api) -> None:
    manager = index_api.client.app.state.services.indexes  # type: ignore[attr-defined]
    manager.auto_rebuild = False  # hold the degraded state to look at it
    try:
        swap_to(index_api, "1")
        corrupt_shard(index_api, "2", 1)
        swap_to(index_api, "2")
        info = stats(index_api)
        assert info["state"] == "degraded" and "checksum mismatch" in info["error"]
        assert info["kind"] == "exact" and info["modelVersion"] == "2"
        assert info["vectors"] > 100 and info["vectorSource"] == "als_model"
        assert_served_exactly(index_api, "2", BOOKS)

        built = index_api.gql(REBUILD, key="admin")["data"]["rebuildVectorIndex"]
        assert built["modelVersion"] == "2" and built["kind"] == "faiss-flat"
        assert built["vectorSource"] == "als_model" and built["shards"] == SHARDS
        info = stats(index_api)
        assert info["state"] == "healthy" and info["error"] is None and info["builtBy"] == "api"
        assert_served_exactly(index_api, "2", BOOKS)
    finally:
        manager.auto_rebuild = True


def test_corrupted_shard_is_rebuilt_in_the_background(index_api: Api) -> None:
    swap_to(index_api, "1")
    corrupt_shard(index_api, "2", 0)
    swap_to(index_api, "2")  # degrade, then the background rebuild (waited for by swap_to)
    info = stats(index_api)
    assert info["state"] == "healthy" and not info["rebuilding"] and info["kind"] == "faiss-flat"
    assert info["vectorSource"] == "als_model"
    assert_served_exactly(index_api, "2", BOOKS[:2])


SIGNED = "{ vectorIndex { state error builtBy kind signatureFailures } }"


def tamper_manifest(api: Api, version: str, shard: int) -> None:
    """Edit a recorded value in a shard manifest, leaving its (now wrong) signature."""
    folder = api.settings.index_dir / version / api.settings.index_kind / f"shard-{shard}"
    manifest = folder / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"build_seconds": ', '"build_seconds": 1'))


def test_tampered_manifest_is_refused_and_the_verified_index_keeps_serving(
    index_api: Api,
) -> None:
    manager = index_api.client.app.state.services.indexes  # type: ignore[attr-defined]
    serving = manager.index
    before = index_api.gql(SIGNED)["data"]["vectorIndex"]
    tamper_manifest(index_api, "2", 1)
    assert manager.ensure() is not None  # re-opens v2's folder: refused, memory's index stays
    after = index_api.gql(SIGNED)["data"]["vectorIndex"]
    assert after["signatureFailures"] == before["signatureFailures"] + 1
    assert after["state"] == "healthy" and manager.index is serving
    assert_served_exactly(index_api, "2", BOOKS[:2])


def test_tampered_manifest_of_a_new_version_degrades_and_is_rebuilt_signed(
    index_api: Api,
) -> None:
    manager = index_api.client.app.state.services.indexes  # type: ignore[attr-defined]
    manager.auto_rebuild = False
    try:
        swap_to(index_api, "1")
        tamper_manifest(index_api, "2", 0)
        swap_to(index_api, "2")
        info = index_api.gql(SIGNED)["data"]["vectorIndex"]
        assert info["state"] == "degraded" and "wrong signature" in info["error"]
        assert info["kind"] == "exact"  # over the (verified) stored embeddings
        assert_served_exactly(index_api, "2", BOOKS[:2])
        index_api.gql(REBUILD, key="admin")
    finally:
        manager.auto_rebuild = True
    info = index_api.gql(SIGNED)["data"]["vectorIndex"]
    assert info["state"] == "healthy" and info["builtBy"] == "api"
    signer = Signer(signing_key(index_api.settings))
    load_index(index_api.settings.index_dir / "2" / index_api.settings.index_kind, signer=signer)
