"""``GBREC_LOG_FORMAT=json``: every line ``gbrec materialize`` and ``gbrec serve`` write
(stdout and stderr) is one JSON object, and each GraphQL request is one line with its
request id, key id (never the key), operation, latency and model version.

Both commands run as real processes on the tiny synthetic scale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .gbrec_process import ApiProcess, create_key, gbrec_env, run_gbrec

pytestmark = pytest.mark.slow

RECOMMEND = "{ recommendations(userId: 3, limit: 3) { requestId modelVersion } }"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line parsed; the first line that is not a JSON object fails."""
    parsed = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"line {number} is not JSON: {line[:500]!r}")
        assert isinstance(entry, dict), line
        assert {"ts", "level", "logger", "message"} <= set(entry), line
        parsed.append(entry)
    return parsed


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("json-logs") / "home"
    return gbrec_env(
        GBREC_HOME=str(home),
        GBREC_SYNTHETIC_SCALE="tiny",
        GBREC_INDEX_SHARDS="2",
        GBREC_DATASET="synthetic",
        GBREC_LOG_FORMAT="json",
        GBREC_REQUIRE_KEY_FOR_READS="true",  # so the request line carries a key id
    )


@pytest.fixture(scope="module")
def materialized(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run_gbrec(["materialize"], env, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return json_lines(result.stdout) + json_lines(result.stderr)


def test_every_materialize_line_is_json(materialized: list[dict[str, Any]]) -> None:
    progress = [e for e in materialized if e["logger"] == "gbrec.materialize"]
    assert {"raw_files", "registered_model"} <= {e.get("step") for e in progress}
    assert progress[-1]["message"].startswith("done:") and progress[-1]["assets"] > 0
    loggers = {e["logger"] for e in materialized}
    assert any(name.startswith("gbrec_core.") for name in loggers), loggers


def test_every_serve_line_is_json_with_a_request_log(
    materialized: list[dict[str, Any]], env: dict[str, str], tmp_path: Path
) -> None:
    key = create_key(env, "read")
    api = ApiProcess(env, tmp_path / "api.log").start()
    try:
        answer = api.gql(RECOMMEND, key=key)["recommendations"]
        api.gql("{ __typename }", key=key)
    finally:
        api.stop()
    text = (tmp_path / "api.log").read_text()
    entries = json_lines(text)
    key_id = "_".join(key.split("_")[:2])  # gbr_<12 hex>; the secret may contain "_"
    assert key not in text and key[len(key_id) + 1 :] not in text
    assert any(e["logger"].startswith("uvicorn") for e in entries)
    requests = {e["request_id"]: e for e in entries if e["logger"] == "gbrec.requests"}
    line = requests[answer["requestId"]]
    assert line["operation"] == "recommendations" and line["outcome"] == "ok"
    assert line["model_version"] == answer["modelVersion"]
    assert line["key_id"] == key_id
    assert 0 < line["latency_ms"] < 60_000
    assert len(requests) == 2  # one line per request, the second with an id of its own
