"""CLI twins of the admin mutations: the same state change and the same audit entries.

A home of its own (the session API's champion must not move under other tests): two
registered versions, an API on it, and the `gbrec` command line: in-process through
typer's runner (the same app the console script runs), once as a real subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from gbrec_core.access import Scope, create_key
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app
from tests.redis_support import empty_database

from .conftest import Api, api_settings, catalogue, ratings, register_models

AUDIT = (
    """{ auditLog(first: 50) { entries { id phase ref keyId operation arguments result ok } } }"""
)
STAGED = {
    "strategy": "STAGED",
    "stages": [0.1, 0.5],
    "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
}


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("twin")
    settings = api_settings(root / "home", catalogue(catalogue_dir, root / "data"))
    empty_database(settings)
    seen = ratings()
    register_models(settings, seen)
    keys = {"admin": create_key(connect(settings), Scope.ADMIN).key}
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(settings, client, keys, seen)
    stop_server(settings)


@dataclasses.dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def gbrec(settings: Settings, *args: str, check: bool = True) -> Done:
    env = {"GBREC_HOME": str(settings.home), "GBREC_DATASET": settings.dataset}
    result = CliRunner().invoke(cli_app(), list(args), env=env)
    done = Done(result.exit_code, result.stdout, result.stderr)
    assert not check or done.returncode == 0, (done.stderr, result.exception)
    return done


def cli_app() -> typer.Typer:
    from gbrec_core import cli

    if not cli._registered:  # what main() does before running the app
        cli._register_core()
        cli._register_plugins()
        cli._registered = True
    return cli.app


def test_console_script_runs_a_twin(twin: Api) -> None:
    env = {**os.environ, "GBREC_HOME": str(twin.settings.home)}
    done = subprocess.run(
        [sys.executable, "-m", "gbrec_core.cli", "keys", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert {k["scope"] for k in json.loads(done.stdout)} == {"admin"}


def pair(api: Api, operation: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newest intent and outcome entries of ``operation``."""
    entries = api.gql(AUDIT, key="admin")["data"]["auditLog"]["entries"]
    outcome = next(e for e in entries if (e["operation"], e["phase"]) == (operation, "outcome"))
    intent = next(e for e in entries if e["id"] == outcome["ref"])
    return intent, outcome


def same_entries(api: Api, operation: str, before: tuple[dict[str, Any], dict[str, Any]]) -> None:
    intent, outcome = pair(api, operation)
    assert intent["keyId"].startswith("cli:") and before[0]["keyId"].startswith("gbr_")
    assert intent["arguments"] == before[0]["arguments"]
    assert outcome["ok"] == before[1]["ok"] and outcome["result"] == before[1]["result"]


def champion(api: Api) -> str:
    listed = json.loads(gbrec(api.settings, "models", "list", "--json").stdout)
    return next(v["version"] for v in listed if "champion" in v["aliases"])


def test_models_deploy_and_rollback_twins(twin: Api) -> None:
    assert champion(twin) == "1"
    twin.gql('mutation { deployModel(version: "2") { version } }', key="admin")
    api_deploy = pair(twin, "deployModel")
    assert champion(twin) == "2"
    twin.gql("mutation { rollbackModel { version } }", key="admin")
    api_rollback = pair(twin, "rollbackModel")
    assert champion(twin) == "1"
    assert json.loads(gbrec(twin.settings, "models", "deploy", "2").stdout)["version"] == "2"
    assert champion(twin) == "2"
    same_entries(twin, "deployModel", api_deploy)
    gbrec(twin.settings, "models", "rollback")
    assert champion(twin) == "1"
    same_entries(twin, "rollbackModel", api_rollback)


def test_models_deploy_unknown_version_fails_and_is_audited(twin: Api) -> None:
    done = gbrec(twin.settings, "models", "deploy", "99", check=False)
    assert done.returncode == 1 and "99" in done.stderr
    intent, outcome = pair(twin, "deployModel")
    assert intent["arguments"] == {"version": "99"} and outcome["ok"] is False


def create(api: Api, exp_id: str) -> None:
    created = api.gql(
        "mutation($i: ExperimentInput!) { createExperiment(input: $i) { id } }",
        {"i": {"id": exp_id, **STAGED}},
        key="admin",
    )
    assert created["data"], created


@pytest.mark.parametrize(
    ("command", "operation"), [("stop", "stopExperiment"), ("advance", "advanceExperiment")]
)
def test_experiment_twins(twin: Api, command: str, operation: str) -> None:
    create(twin, f"api-{command}")
    create(twin, f"cli-{command}")
    twin.gql(f'mutation {{ {operation}(id: "api-{command}") {{ id }} }}', key="admin")
    by_api = pair(twin, operation)
    gbrec(twin.settings, "experiments", command, f"cli-{command}")
    by_cli = pair(twin, operation)
    assert by_cli[0]["arguments"] == {"id": f"cli-{command}"}
    assert {**by_cli[1]["result"], "id": None} == {**by_api[1]["result"], "id": None}
    shown = [
        json.loads(
            gbrec(twin.settings, "experiments", "show", f"{side}-{command}", "--json").stdout
        )
        for side in ("api", "cli")
    ]
    assert shown[0]["status"] == shown[1]["status"] and shown[0]["coverage"] == shown[1]["coverage"]
    listed = json.loads(gbrec(twin.settings, "experiments", "list", "--json").stdout)
    assert {f"api-{command}", f"cli-{command}"} <= {e["id"] for e in listed}


def test_experiments_show_unknown_exits_1(twin: Api) -> None:
    done = gbrec(twin.settings, "experiments", "show", "nope", check=False)
    assert done.returncode == 1 and "nope" in done.stderr


def test_keys_lifecycle_and_audit_verify(twin: Api) -> None:
    made = json.loads(
        gbrec(
            twin.settings, "keys", "create", "--scope", "read", "--expires-in", "2", "--json"
        ).stdout
    )
    assert set(made) == {"id", "key", "scope", "expiresAt"} and made["expiresAt"]
    listed = json.loads(gbrec(twin.settings, "keys", "list", "--json").stdout)
    mine = next(k for k in listed if k["id"] == made["id"])
    assert mine["status"] == "active" and made["key"] not in json.dumps(listed)
    gbrec(twin.settings, "keys", "revoke", made["id"])
    listed = json.loads(gbrec(twin.settings, "keys", "list", "--json").stdout)
    assert next(k for k in listed if k["id"] == made["id"])["status"] == "revoked"
    assert pair(twin, "revokeKey")[0]["arguments"] == {"id": made["id"]}
    assert gbrec(twin.settings, "keys", "revoke", "gbr_nope", check=False).returncode == 1
    assert pair(twin, "createKey")[0]["arguments"] == {"scope": "read", "expiresInDays": 2.0}
    verified = json.loads(gbrec(twin.settings, "audit", "verify", "--json").stdout)
    assert verified["ok"] and verified["entries"] > 4
    _edit_newest_audit_entry(twin.settings)
    broken = gbrec(twin.settings, "audit", "verify", check=False)
    assert broken.returncode == 1 and "edited" in broken.stderr


def _edit_newest_audit_entry(settings: Settings) -> None:
    from gbrec_core.access.audit import STREAM

    redis = connect(settings)
    entries = redis.xrange(STREAM)
    redis.delete(STREAM)
    for i, (entry_id, fields) in enumerate(entries):
        edited = {**fields, "operation": "forged"} if i == len(entries) - 3 else fields
        redis.xadd(STREAM, edited, id=entry_id)


def test_experiments_create_twin(twin: Api, tmp_path: Path) -> None:
    given = {"id": "cli-create", **STAGED, "alpha": 0.01, "autoStop": False}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(given))
    done = json.loads(
        gbrec(twin.settings, "experiments", "create", "--file", str(spec_file)).stdout
    )
    intent, outcome = pair(twin, "createExperiment")
    assert intent["arguments"] == given and outcome["result"] == done
    create(twin, "api-create")
    shown = {
        side: json.loads(
            gbrec(twin.settings, "experiments", "show", f"{side}-create", "--json").stdout
        )
        for side in ("api", "cli")
    }
    for field in ("status", "strategy", "coverage", "variants"):
        assert shown["api"][field] == shown["cli"][field], field
    again = gbrec(twin.settings, "experiments", "create", "--file", str(spec_file), check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    spec_file.write_text(
        json.dumps({**given, "id": "bad", "variants": [{"name": "x", "model": "99"}]})
    )
    assert (
        gbrec(
            twin.settings, "experiments", "create", "--file", str(spec_file), check=False
        ).returncode
        == 1
    )


def test_index_rebuild_twin(twin: Api) -> None:
    twin.gql("mutation { rebuildVectorIndex { vectors } }", key="admin")
    by_api = pair(twin, "rebuildVectorIndex")
    done = json.loads(gbrec(twin.settings, "index", "rebuild").stdout)
    by_cli = pair(twin, "rebuildVectorIndex")
    assert by_cli[0]["arguments"] == by_api[0]["arguments"] == {}
    assert by_cli[1]["ok"] and done["vectors"] == by_api[1]["result"]["vectors"] > 0
    assert done["modelVersion"] == by_api[1]["result"]["modelVersion"]
