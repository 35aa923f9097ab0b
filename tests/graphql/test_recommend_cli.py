"""``gbrec recommend`` answers exactly what the API answers for the same version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from gbrec_core.cli.recommend import answer, as_json

from .conftest import Api

QUERY = """query($u: Int!, $n: Int!, $e: String) {
  recommendations(userId: $u, limit: $n, experimentId: $e) {
    requestId userId modelVersion variant experimentId fallback
    items { rank score book { id title authors year averageRating imageUrl tags } } } }"""
CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) { id } }"""


def _api_answer(api: Api, user: int, limit: int, experiment: str | None) -> dict[str, Any]:
    body = api.gql(QUERY, {"u": user, "n": limit, "e": experiment})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["recommendations"]
    return found


def _same(api_answer: dict[str, Any], cli_answer: dict[str, Any]) -> None:
    assert {**api_answer, "requestId": None} == {**cli_answer, "requestId": None}


@pytest.fixture(scope="module")
def precomputed(api: Api) -> Api:
    """The API answers from its precomputed table (the CLI must match those floats)."""
    server = api.client.app.state.services.server  # type: ignore[attr-defined]
    assert server.precomputed.wait(server.serving_version().version, timeout=60) is not None
    return api


@pytest.mark.parametrize(("user", "limit"), [(7, 10), (11, 3), (150, 25), (10**6, 5)])
def test_the_cli_answers_like_the_api(precomputed: Api, user: int, limit: int) -> None:
    found, items = answer(precomputed.settings, user, limit, None)
    _same(_api_answer(precomputed, user, limit, None), as_json(found, items))


def test_the_cli_answers_as_the_users_experiment_arm(precomputed: Api) -> None:
    spec = {
        "id": "cli-arms",
        "strategy": "RANDOM",
        "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
    }
    assert "errors" not in precomputed.gql(CREATE, {"input": spec}, key="admin")
    variants = set()
    for user in range(1, 25):
        found, items = answer(precomputed.settings, user, 4, "cli-arms")
        _same(_api_answer(precomputed, user, 4, "cli-arms"), as_json(found, items))
        variants.add(found.variant)
    assert variants == {"control", "treatment"}


def test_the_command_prints_the_api_object(precomputed: Api) -> None:
    env = {**os.environ, **_settings_env(precomputed)}
    out = subprocess.run(
        [sys.executable, "-m", "gbrec_core.cli", "recommend", "7", "--limit", "4", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    _same(_api_answer(precomputed, 7, 4, None), json.loads(out.stdout))


def test_a_bad_limit_is_refused_with_exit_code_1(precomputed: Api) -> None:
    env = {**os.environ, **_settings_env(precomputed)}
    out = subprocess.run(
        [sys.executable, "-m", "gbrec_core.cli", "recommend", "7", "--limit", "0"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 1 and "limit must be between 1 and 100" in out.stderr


def _settings_env(api: Api) -> dict[str, str]:
    s = api.settings
    return {
        "GBREC_HOME": str(s.home),
        "GBREC_DATASET": s.dataset,
        "GBREC_INDEX_KIND": s.index_kind,
        "GBREC_INDEX_SHARDS": str(s.index_shards),
    }
