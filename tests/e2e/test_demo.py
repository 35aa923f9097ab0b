"""``gbrec demo`` as a real process on the tiny scale: it prints the API, Dagster and
MLflow URLs, all three answer, and SIGTERM stops every process it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.process_support import free_port

from .gbrec_process import GBREC, gbrec_env

pytestmark = pytest.mark.slow
STARTUP_S = 900  # materialise (tiny) + dagster dev + mlflow server on a shared 2-core machine


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], log: Path) -> dict[str, str]:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if path.exists():
            urls: dict[str, str] = json.loads(path.read_text())
            return urls
        assert proc.poll() is None, f"demo exited {proc.returncode}:\n{log.read_text()[-4000:]}"
        time.sleep(1.0)
    raise AssertionError(f"demo not up in {STARTUP_S} s:\n{log.read_text()[-4000:]}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5.0).status_code == 200
    except httpx.HTTPError:
        return False


def test_demo_serves_api_dagster_and_mlflow_and_stops_them(tmp_path: Path) -> None:
    ports = {"--api-port": free_port(), "--dagster-port": free_port(), "--mlflow-port": 0}
    ports["--mlflow-port"] = free_port()
    env = gbrec_env(
        GBREC_HOME=str(tmp_path / "home"),
        GBREC_SYNTHETIC_SCALE="tiny",
        GBREC_INDEX_SHARDS="2",
        GBREC_DATASET="synthetic",
    )
    args = [f"{k}={v}" for k, v in ports.items()] + [f"--urls-file={tmp_path / 'urls.json'}"]
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*GBREC, "demo", *args], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        urls = wait_for_file(tmp_path / "urls.json", proc, log)
        printed = set(re.findall(r"http://127\.0\.0\.1:(\d+)", log.read_text()))
        assert {str(p) for p in ports.values()} <= printed
        assert answers(f"{urls['api']}/readyz") and answers(f"{urls['dagster']}/server_info")
        assert answers(f"{urls['mlflow']}/health")
        models = httpx.get(f"{urls['mlflow']}/api/2.0/mlflow/registered-models/search").json()
        assert "goodbooks_recommender" in {m["name"] for m in models["registered_models"]}
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
    assert not any(
        answers(u) for u in (urls["api"] + "/healthz", urls["dagster"], urls["mlflow"] + "/health")
    )
