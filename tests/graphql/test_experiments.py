"""Experiments through the API: create, route (argument and header), expose, events, stop."""

from __future__ import annotations

from .conftest import Api

CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) {
  id status strategy coverage seed variants { name weight model } winner } }"""
ROUTED = """query($u: Int!, $e: String) { recommendations(userId: $u, limit: 3, experimentId: $e) {
  requestId modelVersion variant experimentId items { book { id } } } }"""
RESULTS = """query($id: String!) { experiment(id: $id) { status results {
  srmOk variants { name users exposures } metrics { metric variant mean } } } }"""


def spec(exp_id: str, **extra: object) -> dict[str, object]:
    return {
        "id": exp_id,
        "strategy": "RANDOM",
        "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
        **extra,
    }


def test_experiment_lifecycle(api: Api) -> None:
    created = api.gql(CREATE, {"input": spec("api-ab")}, key="admin")["data"]["createExperiment"]
    assert created["status"] == "RUNNING" and created["seed"] == "api-ab"
    assert [v["model"] for v in created["variants"]] == ["1", "2"]
    seen: dict[str, str] = {}
    for user in range(1, 41):
        rec = api.gql(ROUTED, {"u": user, "e": "api-ab"})["data"]["recommendations"]
        assert rec["experimentId"] == "api-ab"
        seen[rec["variant"]] = rec["modelVersion"]
    assert seen == {"control": "1", "treatment": "2"}
    header = api.gql(ROUTED, {"u": 7}, headers={"X-Experiment-ID": "api-ab"})["data"]
    again = api.gql(ROUTED, {"u": 7, "e": "api-ab"})["data"]
    assert header["recommendations"]["variant"] == again["recommendations"]["variant"]
    rec = header["recommendations"]
    event = {
        "userId": 7,
        "type": "CLICK",
        "experimentId": "api-ab",
        "requestId": rec["requestId"],
        "bookId": rec["items"][0]["book"]["id"],
    }
    recorded = api.gql(
        "mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected } }",
        {"e": [event]},
        key="events",
    )
    assert recorded["data"]["recordEvents"] == {"accepted": 1, "rejected": 0}
    results = api.gql(RESULTS, {"id": "api-ab"})["data"]["experiment"]["results"]
    assert sum(v["exposures"] for v in results["variants"]) >= 42
    assert sum(v["users"] for v in results["variants"]) == 40
    listed = api.gql("{ experiments(status: RUNNING) { id } }")["data"]["experiments"]
    assert {"id": "api-ab"} in listed
    stopped = api.gql('mutation { stopExperiment(id: "api-ab") { status } }', key="admin")
    assert stopped["data"]["stopExperiment"]["status"] == "STOPPED"
    after = api.gql(ROUTED, {"u": 3, "e": "api-ab"})["data"]["recommendations"]
    assert after["modelVersion"] == "1"


def test_staged_rollout_advances(api: Api) -> None:
    staged = spec("api-staged", strategy="STAGED", stages=[0.1, 0.5, 1.0])
    created = api.gql(CREATE, {"input": staged}, key="admin")["data"]["createExperiment"]
    assert created["coverage"] == 0.1
    advanced = api.gql('mutation { advanceExperiment(id: "api-staged") { coverage } }', key="admin")
    assert advanced["data"]["advanceExperiment"]["coverage"] == 0.5


def test_experiment_input_errors(api: Api) -> None:
    dup = api.gql(CREATE, {"input": spec("api-dup")}, key="admin")
    assert dup["data"]["createExperiment"]["id"] == "api-dup"
    again = api.gql(CREATE, {"input": spec("api-dup")}, key="admin")
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = api.gql(CREATE, {"input": spec("api-bad", coverage=3.0)}, key="admin")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    missing = api.gql(ROUTED, {"u": 1, "e": "no-such-experiment"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert api.gql('{ experiment(id: "no-such") { id } }')["data"]["experiment"] is None


def test_targeting_must_be_a_json_object(api: Api) -> None:
    bad = api.gql(
        CREATE, {"input": spec("api-target", targeting=["not", "an", "object"])}, key="admin"
    )
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    ok = api.gql(CREATE, {"input": spec("api-target", targeting={"country": "NL"})}, key="admin")
    assert ok["data"]["createExperiment"]["id"] == "api-target"
    routed = api.gql(ROUTED, {"u": 5, "e": "api-target"})["data"]["recommendations"]
    assert routed["experimentId"] is None  # user 5 has no country attribute: not targeted


PAGE = """query($after: String) { experimentsConnection(first: 2, after: $after) {
  edges { cursor node { id } } nodes { id } pageInfo { hasNextPage endCursor } } }"""


def test_experiments_connection_walks_the_same_list_relay_style(api: Api) -> None:
    for n in range(5):
        api.gql(CREATE, {"input": spec(f"api-page-{n}")}, key="admin")
    listed = [e["id"] for e in api.gql("{ experiments(first: 500) { id } }")["data"]["experiments"]]
    walked, after, pages = [], None, 0
    while True:
        page = api.gql(PAGE, {"after": after})["data"]["experimentsConnection"]
        assert [e["node"] for e in page["edges"]] == page["nodes"]
        assert [e["cursor"] for e in page["edges"]] == [n["id"] for n in page["nodes"]]
        walked += [n["id"] for n in page["nodes"]]
        pages += 1
        info = page["pageInfo"]
        assert info["endCursor"] == (walked[-1] if page["nodes"] else None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert walked == listed and len(listed) >= 5 and pages == -(-len(listed) // 2)
    bad = api.gql('{ experimentsConnection(after: "nope") { nodes { id } } }')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
