"""README pictures from a running demo, taken in headless Chromium.

Starts ``gbrec demo`` in a temporary GBREC_HOME (tiny synthetic scale unless
GBREC_SYNTHETIC_SCALE says otherwise; free ports), runs a champion-vs-baseline
experiment with a few hundred simulated users so the dashboard has numbers, then opens
the A/B dashboard, the Dagster asset graph and the MLflow registered-model page. Each
page must show its expected structure (experiment table and variants, asset names,
model name and aliases) before it is photographed; a missing element fails the run, so
in CI (``--check``, pictures into a temporary folder) the committed pictures cannot
silently drift from the product. Pixels are never compared.

Needs Debian's ``chromium`` and the pip ``playwright`` package (never
``playwright install``). Usage: ``bash scripts/screenshots.sh [--check] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
EXPERIMENT = "champion-vs-baseline"
MODEL = "goodbooks_recommender"
ASSETS = ("raw_ratings", "validated_ratings", "registered_model", "vector_index")
MAX_BYTES = 200_000
WIDTH = 1000  # pixels across a saved picture (the 1400-pixel viewport, scaled down)
STARTUP_S = 1200


@dataclass(frozen=True)
class Demo:
    api: str
    dagster: str
    mlflow: str
    key: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_demo(home: Path) -> Iterator[Demo]:
    """``gbrec demo`` until the block ends; its log is printed if it fails to come up."""
    env = {**os.environ, "GBREC_HOME": str(home), "GBREC_DATASET": "synthetic"}
    env.setdefault("GBREC_SYNTHETIC_SCALE", "tiny")
    env.setdefault("GBREC_INDEX_SHARDS", "2")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    urls, log = home / "urls.json", home.parent / "demo.log"
    ports = [f"--{n}-port={free_port()}" for n in ("api", "dagster", "mlflow")]
    command = [sys.executable, "-m", "gbrec_core.cli", "demo", *ports, f"--urls-file={urls}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(urls.exists, STARTUP_S, lambda: proc.poll() is None, log)
        found = json.loads(urls.read_text())
        key = json.loads((home / "demo-admin-key.json").read_text())["key"]
        yield Demo(found["api"], found["dagster"], found["mlflow"], key)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def wait_until(
    done: Callable[[], bool], timeout: float, alive: Callable[[], bool], log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if not alive() or time.monotonic() > deadline:
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise SystemExit("the demo did not come up")
        time.sleep(1.0)


def gql(demo: Demo, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = httpx.post(
        f"{demo.api}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"X-API-Key": demo.key},
        timeout=60.0,
    ).json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def run_experiment(demo: Demo, users: int = 400, seed: int = 7) -> None:
    """The demo's example experiment with simulated traffic: the baseline clicks less."""
    from gbrec_core.cli.demo import EXAMPLE_QUERIES

    gql(demo, EXAMPLE_QUERIES["create an experiment (admin)"])
    rng, clicks = random.Random(seed), {"control": 0.25, "treatment": 0.12}
    for start in range(1, users + 1, 25):
        fields = " ".join(
            f'u{u}: recommendations(userId: {u}, limit: 5, experimentId: "{EXPERIMENT}") '
            "{ requestId userId variant items { book { id } } }"
            for u in range(start, min(start + 25, users + 1))
        )
        served = gql(demo, "{ " + fields + " }").values()
        events = [e for rec in served for e in simulated_events(rec, rng, clicks)]
        gql(
            demo,
            "mutation($e: [EventInput!]!) { recordEvents(events: $e) { accepted } }",
            {"e": events},
        )


def simulated_events(
    rec: dict[str, Any], rng: random.Random, clicks: dict[str, float]
) -> list[dict[str, Any]]:
    base = {"experimentId": EXPERIMENT, "requestId": rec["requestId"], "userId": rec["userId"]}
    events = []
    for item in rec["items"]:
        events.append({**base, "type": "IMPRESSION", "bookId": item["book"]["id"]})
        if rng.random() < clicks[rec["variant"]]:
            events.append({**base, "type": "CLICK", "bookId": item["book"]["id"]})
    satisfaction = 4.0 if rec["variant"] == "control" else 3.4
    events.append(
        {**base, "type": "SATISFACTION", "value": min(5.0, max(1.0, rng.gauss(satisfaction, 0.8)))}
    )
    return events


def expect_texts(page: Any, texts: tuple[str, ...], what: str) -> None:
    """Every text visible on the page (the structure check), within 60 s each."""
    for text in texts:
        try:
            page.get_by_text(text, exact=False).first.wait_for(state="visible", timeout=60_000)
        except Exception as e:  # playwright's TimeoutError: name what is missing
            raise SystemExit(f"{what}: '{text}' not shown ({type(e).__name__})") from e


def shoot_dashboard(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.api}/dashboard#exp={EXPERIMENT}")
    page.wait_for_selector("body[data-loaded='true']", timeout=60_000)
    page.wait_for_selector("table.traffic-table tbody tr", timeout=60_000)
    rows = page.locator("table.traffic-table tbody tr").count()
    if rows != 2:
        raise SystemExit(f"dashboard: {rows} variant rows, expected 2")
    expect_texts(page, (EXPERIMENT, "control", "treatment", "ctr"), "dashboard")


def dismiss(page: Any, locator: Any) -> None:
    """Close a pop-up (Dagster's newsletter dialog, MLflow's assistant) when one is shown."""
    if locator.count() and locator.first.is_visible():
        locator.first.click()
        page.wait_for_timeout(500)


def shoot_dagster(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.dagster}/asset-groups")
    expect_texts(page, ("registry", "models"), "Dagster asset graph")  # groups, collapsed
    page.wait_for_timeout(3000)
    dismiss(page, page.get_by_role("button", name="Skip"))
    dismiss(page, page.get_by_text("Hide navigation", exact=True))
    page.keyboard.press("Alt+e")  # the graph's "Expand all groups"
    expect_texts(page, ASSETS, "Dagster asset graph")
    page.wait_for_timeout(2000)  # the layout animation


def shoot_mlflow(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.mlflow}/#/models/{MODEL}")
    expect_texts(page, (MODEL, "Version 1", "@ champion", "@ baseline"), "MLflow model page")
    page.wait_for_timeout(1000)
    dismiss(page, page.locator("button[aria-label='Close']"))


PAGES: dict[str, Callable[[Any, Demo], None]] = {
    "dashboard": shoot_dashboard,
    "dagster-assets": shoot_dagster,
    "mlflow-model": shoot_mlflow,
}


def save_small(raw: bytes, path: Path) -> int:
    """The screenshot scaled to WIDTH and quantised to 256 colours; its size in bytes."""
    import io

    image = Image.open(io.BytesIO(raw)).convert("RGB")
    height = round(image.height * WIDTH / image.width)
    small = image.resize((WIDTH, height), Image.Resampling.LANCZOS).quantize(colors=256)
    small.save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, more than {MAX_BYTES}")
    return size


def photograph(demo: Demo, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, device_scale_factor=1
        )
        for name, shoot in PAGES.items():
            page = context.new_page()
            shoot(page, demo)
            size = save_small(page.screenshot(), out / f"{name}.png")
            print(f"{name}: structure ok, {out / name}.png ({size // 1024} KiB)")
            page.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument(
        "--check", action="store_true", help="Check the pages; keep the committed pictures."
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing (Debian package 'chromium')")
    with tempfile.TemporaryDirectory(prefix="gbrec-screenshots-") as tmp:
        out = Path(tmp) / "images" if args.check else args.out
        with running_demo(Path(tmp) / "home") as demo:
            run_experiment(demo)
            photograph(demo, out)
    print("checked: every page shows its expected structure" if args.check else f"saved in {out}")


if __name__ == "__main__":
    main()
