"""GBREC_VECTOR_BACKEND=milvus: similarBooks is answered by Milvus, and by the local
index (reported degraded, counted) while Milvus is stopped.

Two real engines: this API process's private Milvus Lite folder (the default), and a
Milvus Lite gRPC server in its own process (``python -m milvus_lite server``), which
stands in for a Milvus server shared with the ``milvus_collection`` asset.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.index import EMBEDDINGS_DIR, load_embeddings, make_index, version_params
from gbrec_core.serving import milvus_provision
from gbrec_core.serving.milvus_search import RETRY_SECONDS
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app
from tests.process_support import free_port, stop

from .conftest import Api, api_settings, catalogue, ratings, register_models

pytest.importorskip("milvus_lite")

STATUS = """{ vectorIndex { backend state error backendHealthy backendLatencyMs
  backendQueries backendFallbacks latencyP50Ms } }"""
SIMILAR = "query($b: Int!) { similarBooks(bookId: $b, limit: 10) { book { id } } }"
BOOKS = list(range(1, 41))


def open_api(root: Path, catalogue_dir: Path, **overrides: Any) -> tuple[Api, TestClient]:
    settings = api_settings(
        root / "home", catalogue(catalogue_dir, root / "data"), vector_backend="milvus", **overrides
    )
    seen = ratings(seed=13)
    register_models(settings, seen)  # ALS v1 champion: its item vectors are indexed
    keys = {s.label: create_key(connect(settings), s).key for s in Scope}
    client = TestClient(create_app(settings), raise_server_exceptions=False)
    return Api(settings, client, keys, seen), client


def status(api: Api) -> dict[str, Any]:
    body = api.gql(STATUS)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["vectorIndex"]
    return result


def similar(api: Api, book: int) -> list[int]:
    body = api.gql(SIMILAR, {"b": book})
    assert "errors" not in body, body
    return [item["book"]["id"] for item in body["data"]["similarBooks"]]


def exact_top10(settings: Settings, book: int) -> list[int]:
    stored = load_embeddings(settings.index_dir / "1" / EMBEDDINGS_DIR)
    oracle = make_index("exact", int(stored.vectors.shape[1]))
    oracle.add(stored.book_ids, stored.vectors)
    vector = stored.vector_of(book)
    assert vector is not None
    return [int(i) for i in oracle.search(vector, 10, exclude=[[book]])[0][0]]


def agreement(api: Api) -> float:
    """Share of the probe books whose top-10 set equals exact search's."""
    same = [set(similar(api, b)) == set(exact_top10(api.settings, b)) for b in BOOKS]
    return sum(same) / len(same)


@pytest.fixture(scope="module")
def lite_api(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Api]:
    api, client = open_api(tmp_path_factory.mktemp("milvus-lite-api"), catalogue_dir)
    with client:
        yield api
    stop_server(api.settings)


def test_similar_books_come_from_milvus_and_agree_with_exact_search(lite_api: Api) -> None:
    before = status(lite_api)
    assert before["backend"] == "milvus" and before["state"] == "healthy", before
    assert before["backendHealthy"] and before["backendLatencyMs"] > 0
    assert agreement(lite_api) >= 0.95
    after = status(lite_api)
    assert after["backendQueries"] == before["backendQueries"] + len(BOOKS)
    assert after["backendFallbacks"] == before["backendFallbacks"]
    assert after["latencyP50Ms"] is not None  # Milvus's own search latency
    assert (lite_api.settings.resolved_home / "milvus").is_dir()


def test_stopped_milvus_degrades_to_local_files_and_recovers(lite_api: Api) -> None:
    want = {b: set(exact_top10(lite_api.settings, b)) for b in BOOKS[:10]}
    before = status(lite_api)
    milvus_provision.release_private(milvus_provision.serving_uri(lite_api.settings))
    # Within the retry interval every search is answered by the local index.
    assert all(set(similar(lite_api, b)) == top for b, top in want.items())
    down = status(lite_api)
    assert down["state"] == "degraded" and not down["backendHealthy"], down
    assert "Milvus" in down["error"]
    assert down["backendFallbacks"] == before["backendFallbacks"] + len(want)
    assert down["backendQueries"] == before["backendQueries"]
    # Then a search starts a reconnect in the background: a fresh engine, refilled.
    time.sleep(RETRY_SECONDS + 0.5)
    deadline = time.monotonic() + 90
    while status(lite_api)["backendQueries"] == before["backendQueries"]:
        assert time.monotonic() < deadline, status(lite_api)
        assert set(similar(lite_api, BOOKS[0])) == want[BOOKS[0]]
        time.sleep(0.5)
    assert status(lite_api)["state"] == "healthy"


# ---- a Milvus server in its own process --------------------------------------------------------
def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data_dir)]
    process = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise AssertionError("the Milvus Lite server did not start")


@pytest.mark.slow
def test_milvus_server_collection_is_served_and_a_stopped_server_is_survived(
    tmp_path: Path, catalogue_dir: Path
) -> None:
    port = free_port()
    server = start_server(tmp_path / "milvus-data", port)
    try:
        api, client = open_api(tmp_path, catalogue_dir, milvus_uri=f"http://127.0.0.1:{port}")
        with client:
            info = status(api)
            assert info["state"] == "healthy" and info["backendHealthy"], info
            assert agreement(api) >= 0.95
            assert status(api)["backendQueries"] >= len(BOOKS)
            # The API reads the shared gbrec_v1 collection (what the asset writes).
            shared = make_index("milvus", 8, **version_params(api.settings.resolved_milvus_uri, 1))
            assert len(shared) == len(load_embeddings(api.settings.index_dir / "1" / "embeddings"))
            shared.close()
            stop(server)
            assert agreement(api) >= 0.95
            down = status(api)
            assert down["state"] == "degraded" and down["backendFallbacks"] >= len(BOOKS)
        stop_server(api.settings)
    finally:
        server.kill()
        server.wait(30)


def test_collection_with_other_vectors_is_refused(lite_api: Api) -> None:
    stored = load_embeddings(lite_api.settings.index_dir / "1" / EMBEDDINGS_DIR)
    uri = str(lite_api.settings.resolved_home / "milvus" / "other.db")
    wrong = make_index("milvus", int(stored.vectors.shape[1]), **version_params(uri, 9))
    wrong.add(stored.book_ids, np.flip(stored.vectors, axis=0))
    wrong.close()
    from gbrec_core.errors import IndexLoadError

    with pytest.raises(IndexLoadError, match="other vectors"):
        milvus_provision.provision(uri, "9", stored)
    milvus_provision.release_private(uri)
