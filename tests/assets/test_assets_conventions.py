"""Dagster conventions: public APIs only, the `dg` CLI finds the project, network steps retry."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from gbrec_assets.definitions import build_definitions
from gbrec_core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_IMPORT = re.compile(r"^\s*(from|import)\s+dagster\._", re.MULTILINE)
RETRIED = {"model_evaluation", "item_embeddings", "baseline_model", "milvus_collection"}
NOT_RETRIED = {"registered_model"}  # not idempotent: a retry would register a second version


def test_gbrec_assets_imports_no_private_dagster_module() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "gbrec_assets").rglob("*.py")
        if PRIVATE_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_network_steps_retry_with_backoff(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, vector_backend="milvus")
    graph = build_definitions(settings).resolve_asset_graph()
    policies = {
        key.to_user_string(): graph.get(key).assets_def.op.retry_policy
        for key in graph.get_all_asset_keys()
    }
    assert set(policies) >= RETRIED | NOT_RETRIED
    for name in RETRIED:
        policy = policies[name]
        assert policy is not None, name
        assert policy.max_retries >= 2 and policy.backoff == dg.Backoff.EXPONENTIAL, name
    assert all(policies[name] is None for name in NOT_RETRIED)


def _dg(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("dg", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("the dg CLI (dagster-dg-cli) is not installed in this environment")
    env = {**os.environ, "DAGSTER_HOME": str(home), "GBREC_HOME": str(home / "gbrec")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_dg_finds_and_checks_the_definitions(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    checked = _dg("check", "defs", home=tmp_path)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = _dg("list", "defs", "--json", home=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assets = {a["asset_key"] for a in json.loads(listed.stdout)["assets"]}
    assert {"raw_ratings", "registered_model", "vector_index"} <= assets
