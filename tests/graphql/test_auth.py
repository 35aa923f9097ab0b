"""The auth matrix for every mutation, key handling and the audit log."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gbrec_core.access.keys import split_key
from tests.redis_support import redis_env

from .conftest import Api

ADMIN_MUTATIONS = {
    "createExperiment": (
        'mutation { createExperiment(input: {id: "auth-x", strategy: RANDOM, '
        'variants: [{name: "a", model: "1"}, {name: "b", model: "2"}]}) { id } }'
    ),
    "advanceExperiment": 'mutation { advanceExperiment(id: "nope") { id } }',
    "stopExperiment": 'mutation { stopExperiment(id: "nope") { id } }',
    "deployModel": 'mutation { deployModel(version: "999") { version } }',
    "rollbackModel": "mutation { rollbackModel { version } }",
    "rebuildVectorIndex": "mutation { rebuildVectorIndex { vectors } }",
}
EVENTS = (
    "mutation { recordEvents(events: [{userId: 1, type: CLICK, bookId: 2}]) { accepted rejected } }"
)
WRONG = "gbr_000000000000_" + "x" * 43


def code(body: dict) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@pytest.mark.parametrize("name", sorted(ADMIN_MUTATIONS))
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "UNAUTHENTICATED"),
        (WRONG, "UNAUTHENTICATED"),
        ("garbage", "UNAUTHENTICATED"),
        ("read", "FORBIDDEN"),
        ("events", "FORBIDDEN"),
    ],
)
def test_admin_mutations_refuse_non_admin_keys(
    api: Api, name: str, key: str | None, expected: str
) -> None:
    body = api.gql(ADMIN_MUTATIONS[name], key=key)
    assert code(body) == expected and body["data"] is None


@pytest.mark.parametrize("name", sorted(ADMIN_MUTATIONS))
def test_admin_key_passes_auth_for_every_admin_mutation(api: Api, name: str) -> None:
    # Past auth, the outcome is the operation's own (e.g. NOT_FOUND for a missing id).
    assert code(api.gql(ADMIN_MUTATIONS[name], key="admin")) not in (
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "INTERNAL_SERVER_ERROR",
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "UNAUTHENTICATED"),
        (WRONG, "UNAUTHENTICATED"),
        ("read", "FORBIDDEN"),
        ("events", None),
        ("admin", None),
    ],
)
def test_record_events_matrix(api: Api, key: str | None, expected: str | None) -> None:
    body = api.gql(EVENTS, key=key)
    assert code(body) == expected
    if expected is None:
        assert (
            body["data"]["recordEvents"]["accepted"] + body["data"]["recordEvents"]["rejected"] == 1
        )


def test_bearer_header_is_accepted(api: Api) -> None:
    response = api.client.post(
        "/graphql",
        json={"query": "mutation { rollbackModel { version } }"},
        headers={"Authorization": f"Bearer {api.keys['read']}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_audit_log_records_admin_mutations_and_pages(api: Api) -> None:
    api.gql(ADMIN_MUTATIONS["stopExperiment"], key="admin")
    api.gql(ADMIN_MUTATIONS["advanceExperiment"], key="admin")
    query = (
        "query($after: String) { auditLog(first: 1, after: $after) "
        "{ entries { id phase ref keyId operation arguments result ok at } nextCursor "
        "pageInfo { hasNextPage endCursor } } }"
    )
    first = api.gql(query, key="admin")["data"]["auditLog"]
    outcome = first["entries"][0]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": outcome["id"]}
    assert (outcome["phase"], outcome["operation"]) == ("outcome", "advanceExperiment")
    assert outcome["ok"] is False and outcome["result"]["error"] == "NOT_FOUND"
    assert outcome["keyId"] == split_key(api.keys["admin"])
    assert api.keys["admin"] not in json.dumps(outcome)
    second = api.gql(query, {"after": first["nextCursor"]}, key="admin")["data"]["auditLog"]
    intent = second["entries"][0]
    assert (intent["phase"], intent["id"]) == ("intent", outcome["ref"])
    assert intent["arguments"] == {"id": "nope"} and intent["id"] < outcome["id"]
    third = api.gql(query, {"after": second["nextCursor"]}, key="admin")["data"]["auditLog"]
    assert third["entries"][0]["operation"] == "stopExperiment"
    assert code(api.gql(query, key="read")) == "FORBIDDEN"
    assert code(api.gql(query)) == "UNAUTHENTICATED"
    assert code(api.gql('{ auditLog(after: "x") { nextCursor } }', key="admin")) == "BAD_USER_INPUT"


def test_keys_are_stored_hashed_only(api: Api) -> None:
    from gbrec_core.store import connect

    stored = connect(api.settings).hgetall("gbrec:apikeys")
    for key in api.keys.values():
        assert key not in json.dumps(stored)


def test_cli_keys_create_json_is_usable_by_the_server(api: Api) -> None:
    env = {"GBREC_HOME": str(api.settings.home), "PATH": "", **redis_env()}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gbrec_core.cli import main; main()",
            "keys",
            "create",
            "--scope",
            "events",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    created = json.loads(lines[0])
    assert created["scope"] == "events"
    body = api.gql(EVENTS, key=created["key"])
    assert code(body) is None


def test_rate_limit_on_mutations(api: Api) -> None:
    from gbrec_core.access import Scope, create_key
    from gbrec_core.store import connect

    key = create_key(connect(api.settings), Scope.ADMIN).key
    services = api.client.app.state.services  # type: ignore[attr-defined]
    old = services.settings
    services.stack.settings = old.model_copy(update={"mutation_rate_limit": 3})
    try:
        codes = [code(api.gql(ADMIN_MUTATIONS["stopExperiment"], key=key)) for _ in range(5)]
    finally:
        services.stack.settings = old
    assert codes[:3] == ["NOT_FOUND"] * 3 and codes[3:] == ["RATE_LIMITED"] * 2
