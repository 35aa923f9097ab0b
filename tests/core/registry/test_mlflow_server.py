"""Logged models through a real MLflow server with proxied artifacts (the compose setup:
clients know only ``http://mlflow:5000``; artifacts are ``mlflow-artifacts:/`` URIs)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.registry.retention import prune_versions
from gbrec_core.settings import Settings
from tests.process_support import free_port, stop

from ..skewed_ratings import skewed_ratings

pytestmark = pytest.mark.slow
STARTUP_S = 300  # the server took 45 s to answer /health on the loaded 2-core machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"]
    command += ["--artifacts-destination", str(root / "artifacts")]
    with (root / "server.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process)
        yield url
    finally:
        stop(process, grace=60)


def _wait_for_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "mlflow server exited; see server.log"
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"mlflow server at {url} did not answer /health within {STARTUP_S} s")


def test_log_register_load_and_prune_through_the_server(server: str, tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", mlflow_tracking_uri=server, signing_key="k", keep_versions=1
    )
    registry = ModelRegistry(settings)
    fp = {"sha256": "srv", "rows": 1, "users": 1, "books": 1}
    logged = []
    for seed in (1, 2):
        model = make_recommender("popularity").fit(skewed_ratings(seed))
        logged.append(registry.log_model_run(model, {"ndcg": 0.1}, {}, fp, run_name="pop"))
    versions = [registry.register(run.run_id) for run in logged]
    newest = versions[-1]
    assert newest.source is not None and newest.source.startswith("mlflow-artifacts:/")
    assert newest.model_id == logged[-1].model_id
    assert registry.load(newest.version).checksum == newest.checksum
    # The server lists the version on the logged model; the client does not add it twice.
    tags = registry.client.get_logged_model(newest.model_id).tags
    assert tags["mlflow.modelVersions"].count('"version"') == 1
    report = prune_versions(settings, registry)
    assert [p.version for p in report.pruned] == [versions[0].version] and not report.failures
    assert {m.model_id for m in registry.logged_models()} == {newest.model_id}
    assert registry.load(newest.version).checksum == newest.checksum
