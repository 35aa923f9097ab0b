"""The A/B dashboard: served offline-safe by the API and rendered in headless Chromium.

The browser test needs Debian's ``chromium`` (``/usr/bin/chromium``) and the pip
``playwright`` package (never ``playwright install``); it skips with the reason when
either is missing, and runs in the ``make test-production`` profile that installs them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

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
ADMIN_KEY = "admin-secret"


def _load_fixture_module() -> ModuleType:
    path = Path(__file__).with_name("dashboard_fixture.py")
    spec = importlib.util.spec_from_file_location("gbrec_dashboard_fixture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


fixture_mod = _load_fixture_module()


class ServerThread:
    """uvicorn on 127.0.0.1, port 0 (xdist-safe), in a daemon thread."""

    def __init__(self, app: Starlette) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("dashboard test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def api() -> Any:
    return fixture_mod.FixtureApi(fixture_mod.default_experiments())


@pytest.fixture
def base_url(api: Any) -> Iterator[str]:
    with ServerThread(api.app()) as url:
        yield url


# ---------- HTTP-level checks (no browser needed) ----------


def test_dashboard_page_and_assets_are_served_with_a_strict_policy(base_url: str) -> None:
    page = httpx.get(f"{base_url}/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    for name, media_type in ASSETS.items():
        asset = httpx.get(f"{base_url}/dashboard/static/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"] == media_type
        assert asset.content == read_static(name)
    assert httpx.get(f"{base_url}/dashboard/static/secrets.py").status_code == 404
    assert httpx.get(f"{base_url}/dashboard/static/..%2fdashboard.py").status_code == 404
    slash = httpx.get(f"{base_url}/dashboard/", follow_redirects=False)
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


# ---------- the browser ----------


def _browser() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent (Debian package 'chromium'); the browser test runs in "
            "`make test-production`, which installs it"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package 'playwright' missing")
    return sync_api


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    sync_api = _browser()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.external_requests = []  # type: ignore[attr-defined]
        page.console_errors = []  # type: ignore[attr-defined]

        def guard(route: Any) -> None:
            if route.request.url.startswith(base_url):
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


def _open(page: Any, base_url: str, fragment: str = "") -> None:
    page.goto(f"{base_url}/dashboard{fragment}")
    page.wait_for_selector("body[data-loaded='true']")


def _expected(api: Any, exp_id: str) -> dict[str, Any]:
    exp = next(e for e in api.experiments if e.id == exp_id)
    return api.experiment_json(exp)


def test_dashboard_renders_experiments_in_chromium(page: Any, base_url: str, api: Any) -> None:
    _open(page, base_url, "#exp=hybrid-three-way")
    page.wait_for_selector("svg.history-chart path.band")
    data = _expected(api, "hybrid-three-way")

    rows = page.locator("table.traffic-table tbody tr")
    assert rows.count() == len(data["variants"])
    names = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]
    assert names == [v["name"] for v in data["variants"]]
    users = [rows.nth(i).locator("td").nth(5).inner_text() for i in range(rows.count())]
    assert users == [f"{v['users']:,}" for v in data["results"]["variants"]]

    # the simulated assignment is skewed away from the weights: the SRM badge must say so
    badge = page.locator("#detail .summary-head .srm-badge")
    assert data["results"]["srmOk"] is False
    assert "SRM detected" in badge.inner_text()
    assert "bad" in (badge.get_attribute("class") or "")

    compared = [m for m in data["results"]["metrics"] if m["diff"] is not None]
    assert page.locator("svg.forest-plot circle.forest-point").count() == len(compared)
    assert page.locator("svg.forest-plot line.forest-ci").count() == len(compared)
    assert page.locator("svg.traffic-chart rect.bar-actual").count() == len(data["variants"])
    assert page.locator("svg.history-chart path.line").count() == len(data["variants"]) - 1

    # a clean experiment reads "No SRM", and a finished one shows its winner
    page.click("button.exp-item[data-experiment-id='als-vs-popularity']")
    assert "No SRM" in page.locator("#detail .summary-head .srm-badge").inner_text()
    page.click("button.exp-item[data-experiment-id='ease-rerank']")
    assert "Winner: ease" in page.locator("#decision").inner_text()

    page.click("button.exp-item[data-experiment-id='als-vs-popularity']")
    page.wait_for_selector("svg.history-chart path.band")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert page.external_requests == []  # type: ignore[attr-defined]
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_admin_key_unlocks_advance_and_stop(page: Any, base_url: str, api: Any) -> None:
    _open(page, base_url, "#exp=als-vs-popularity")
    assert page.locator("#advance-button").count() == 0  # no key, no buttons
    page.fill("#api-key", ADMIN_KEY)
    page.click("#key-save")
    page.click("#advance-button")
    page.wait_for_selector(".banner.info")
    assert api.mutations[-1]["key"] == ADMIN_KEY
    assert "advanceExperiment" in api.mutations[-1]["query"]
    assert page.evaluate("sessionStorage.getItem('gbrec.dashboard.apiKey')") == ADMIN_KEY

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop-button")
    page.wait_for_selector("button.exp-item[data-experiment-id='als-vs-popularity'] .pill.stopped")
    assert "stopExperiment" in api.mutations[-1]["query"]
    assert page.locator("#stop-button").count() == 0  # a stopped experiment has no actions

    page.click("#key-clear")
    assert page.evaluate("sessionStorage.getItem('gbrec.dashboard.apiKey')") is None


def test_history_chart_hides_when_the_api_has_no_history_field(
    page: Any, base_url: str, api: Any
) -> None:
    api.history_supported = False
    _open(page, base_url, "#exp=als-vs-popularity")
    page.wait_for_selector("svg.forest-plot")
    page.wait_for_selector("#history-card", state="hidden")
    assert page.locator("#banner").is_hidden()
    assert page.console_errors == []  # type: ignore[attr-defined]
