"""Hot swap under load, checked from outside through GraphQL.

Starts a real ``gbrec serve`` (uvicorn, one worker, 127.0.0.1, a kernel-chosen port)
on a temporary GBREC_HOME holding two registered ALS versions, creates an admin key
with ``gbrec keys create --scope admin --json`` and drives ``recommendations`` with 32
concurrent httpx clients in two phases of 4,000 requests each:

* steady: nothing else happens;
* swaps: one more task calls ``deployModel`` every 0.25 s, alternating the two versions
  (the phase runs on past 4,000 requests until at least 20 swaps were made).

A request fails when it is not HTTP 200, carries ``errors``, has no items or names a
``modelVersion`` other than the two. Then ``rollbackModel`` is called and the very next
request must be served by the version it restored.

The per-key mutation rate limit (``GBREC_MUTATION_RATE_LIMIT``, default 60/min) would
refuse 4 deploys a second, so the benchmark's server runs with 100,000/min.

    .venv/bin/python benchmarks/api_swaps.py                 # small synthetic set
    .venv/bin/python benchmarks/api_swaps.py --scale goodbooks
    .venv/bin/python benchmarks/api_swaps.py --quick         # 8 clients, 800 requests
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

RECOMMEND = (
    "query R($u: Int!) { recommendations(userId: $u, limit: 10) "
    "{ modelVersion items { score book { title authors } } } }"
)
DEPLOY = "mutation D($v: String!) { deployModel(version: $v) { version previousVersion } }"
ROLLBACK = "mutation { rollbackModel { version previousVersion } }"
SERVING = "{ servingModel { version } }"
GBREC = [sys.executable, "-c", "from gbrec_core.cli import main; main()"]
_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
#: Settings a developer's shell may carry that would point the server elsewhere.
_REMOTE = ("GBREC_REDIS_URL", "GBREC_MLFLOW_TRACKING_URI", "GBREC_MLFLOW_ARTIFACT_ROOT")


@dataclass
class Home:
    """A prepared GBREC_HOME: child-process environment, the two versions, user ids."""

    env: dict[str, str]
    versions: tuple[str, str]
    users: list[int]


def prepare(root: Path, scale: str, factors: tuple[int, int] = (32, 24)) -> Home:
    """Synthetic data at ``scale``, two ALS versions registered, the first champion."""
    from gbrec_core.data import load_ratings
    from gbrec_core.data.generator import generate
    from gbrec_core.models import make_recommender
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.settings import Settings

    data = root / "data"
    generate(scale, data)  # type: ignore[arg-type]
    home = root / "home"
    settings = Settings(home=home, dataset=str(data), redis_url=None, mlflow_tracking_uri=None)
    ratings = load_ratings(data / "ratings.csv")
    registry = ModelRegistry(settings)
    versions = []
    for n in factors:
        model = make_recommender("als", factors=n, iterations=5).fit(ratings)
        fp = {"sha256": f"swaps-{n}", "rows": len(ratings), "users": 0, "books": 0}
        run = registry.log_training_run(model, {"ndcg": 0.1}, {"factors": n}, fp)
        versions.append(registry.register(run).version)
    registry.promote(versions[0], force=True)
    env = {k: v for k, v in os.environ.items() if k not in _REMOTE}
    env.update(
        GBREC_HOME=str(home),
        GBREC_DATASET=str(data),
        GBREC_ENV="production",
        GBREC_INDEX_KIND="faiss-flat",
        GBREC_INDEX_SHARDS="1",
        # 4 deploys a second from one key: far above the 60/min default.
        GBREC_MUTATION_RATE_LIMIT="100000",
        # Only this process deploys; the watcher would merely re-read the same alias.
        GBREC_MODEL_WATCH_INTERVAL="3600",
    )
    users = sorted(set(ratings["user_id"].astype(int).tolist()))[:5000]
    return Home(env, (versions[0], versions[1]), users)


def admin_key(env: dict[str, str]) -> str:
    """``gbrec keys create --scope admin --json`` -> the key."""
    out = subprocess.run(
        [*GBREC, "keys", "create", "--scope", "admin", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return str(json.loads(out.stdout.strip().splitlines()[-1])["key"])


def start_server(env: dict[str, str], log_path: Path, timeout: float = 120.0) -> tuple[Any, str]:
    """``gbrec serve --port 0``: the port is read back from uvicorn's log line."""
    log = log_path.open("ab")
    proc = subprocess.Popen(
        [*GBREC, "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "info"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        found = _RUNNING.findall(log_path.read_text(errors="replace"))
        if found:
            url = f"http://127.0.0.1:{found[-1]}"
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return proc, url
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    stop_server(proc)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"gbrec serve did not become ready; log tail:\n{tail}")


def stop_server(proc: Any) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Phase:
    """What one phase saw: latencies (ms), failures, versions and deploys."""

    name: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    swaps: int = 0
    swap_failures: list[str] = field(default_factory=list)
    deploy_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")


def check_recommendation(status: int, body: bytes, allowed: tuple[str, ...]) -> str | None:
    """The version that answered, or raise ValueError describing the failure."""
    if status != 200:
        raise ValueError(f"HTTP {status}: {body[:200]!r}")
    payload = orjson.loads(body)
    if payload.get("errors"):
        raise ValueError(f"errors: {payload['errors']}")
    rec = payload["data"]["recommendations"]
    if not rec["items"]:
        raise ValueError("no items")
    version = str(rec["modelVersion"])
    if version not in allowed:
        raise ValueError(f"served by unexpected version {version}")
    return version


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = {"X-API-Key": key} if key else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {body}")
    data: dict[str, Any] = body["data"]
    return data


async def swapper(
    client: httpx.AsyncClient,
    key: str,
    versions: tuple[str, str],
    interval: float,
    phase: Phase,
    stop: asyncio.Event,
) -> None:
    """Deploy the other version every ``interval`` seconds until ``stop`` is set."""
    due = time.monotonic()
    i = 1
    while not stop.is_set():
        target = versions[i % 2]
        started = time.perf_counter()
        try:
            data = await gql(client, DEPLOY, {"v": target}, key)
            if data["deployModel"]["version"] != target:
                raise RuntimeError(f"deployed {data['deployModel']} instead of v{target}")
            phase.swaps += 1
            phase.deploy_ms.append((time.perf_counter() - started) * 1000)
        except (RuntimeError, httpx.HTTPError) as e:
            phase.swap_failures.append(repr(e)[:300])
        i += 1
        due += interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))


async def run_phase(
    url: str,
    users: list[int],
    *,
    name: str,
    total: int,
    clients: int,
    allowed: tuple[str, ...],
    key: str,
    swap: tuple[str, float, int] | None = None,
    budget: float = 300.0,
) -> Phase:
    """``total`` recommendation requests from ``clients`` concurrent connections.

    ``swap=(admin_key, interval, min_swaps)`` runs the deploy loop alongside and keeps
    the load going past ``total`` until ``min_swaps`` deploys were made.
    """
    phase = Phase(name)
    # Production mode: every request carries a key (the admin key reads too).
    headers = {"content-type": "application/json", "X-API-Key": key}
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    stop = asyncio.Event()
    issued = 0
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        deadline = time.monotonic() + budget
        min_swaps = swap[2] if swap else 0

        def more() -> bool:
            wanted = issued < total or phase.swaps < min_swaps
            return wanted and time.monotonic() < deadline

        async def worker(n: int) -> None:
            nonlocal issued
            rng = np.random.default_rng(n)
            while more():
                issued += 1
                user = users[int(rng.integers(len(users)))]
                body = orjson.dumps({"query": RECOMMEND, "variables": {"u": user}})
                started = time.perf_counter()
                try:
                    response = await client.post("/graphql", content=body, headers=headers)
                    phase.latencies.append((time.perf_counter() - started) * 1000)
                    version = check_recommendation(response.status_code, response.content, allowed)
                    phase.versions[str(version)] += 1
                except (ValueError, KeyError, TypeError, httpx.HTTPError) as e:
                    phase.failures.append(f"user {user}: {e!r}"[:300])

        started = time.perf_counter()
        swaps = None
        if swap is not None:
            key, interval, _ = swap
            pair = (allowed[0], allowed[1])
            swaps = asyncio.create_task(swapper(client, key, pair, interval, phase, stop))
        await asyncio.gather(*(worker(i) for i in range(clients)))
        stop.set()
        if swaps is not None:
            await swaps
        phase.seconds = time.perf_counter() - started
    return phase


async def rollback_check(url: str, key: str) -> dict[str, str]:
    """rollbackModel, then at once one recommendation and servingModel."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        before = (await gql(client, SERVING, {}, key))["servingModel"]["version"]
        rolled = (await gql(client, ROLLBACK, {}, key))["rollbackModel"]
        rec = await gql(client, RECOMMEND, {"u": 1}, key)
        after = (await gql(client, SERVING, {}, key))["servingModel"]["version"]
    return {
        "before": before,
        "rolled_to": rolled["version"],
        "rolled_from": str(rolled["previousVersion"]),
        "next_request": rec["recommendations"]["modelVersion"],
        "serving_after": after,
    }


def report(steady: Phase, swaps: Phase, rollback: dict[str, str], clients: int) -> None:
    print(f"\n{clients} concurrent httpx clients, one uvicorn worker (gbrec serve)\n")
    print("| phase | requests | failures | versions seen | swaps | p50 ms | p99 ms | QPS |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for p in (steady, swaps):
        seen = ", ".join(f"v{v}: {n}" for v, n in sorted(p.versions.items()))
        print(
            f"| {p.name} | {len(p.latencies)} | {len(p.failures)} | {seen} | {p.swaps} | "
            f"{p.percentile(50):.1f} | {p.percentile(99):.1f} | "
            f"{len(p.latencies) / p.seconds:.0f} |"
        )
    ratio = swaps.percentile(99) / steady.percentile(99)
    print(f"\np99 swaps / steady: {ratio:.2f} (target <= 2)")
    if swaps.deploy_ms:
        d50, d99 = np.percentile(swaps.deploy_ms, [50, 99])
        print(f"deployModel round trip: p50 {d50:.0f} ms, p99 {d99:.0f} ms")
    print(f"failed deploys: {len(swaps.swap_failures)}")
    for failure in (steady.failures + swaps.failures + swaps.swap_failures)[:5]:
        print(f"  e.g. {failure}")
    immediate = rollback["next_request"] == rollback["rolled_to"] != rollback["before"]
    print(
        f"rollbackModel: v{rollback['rolled_from']} -> v{rollback['rolled_to']}; next request "
        f"served by v{rollback['next_request']}, servingModel v{rollback['serving_after']} "
        f"({'immediate' if immediate else 'NOT immediate'})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "goodbooks"])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--min-swaps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="8 clients, 800 requests, 10 swaps")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.clients, args.min_swaps = 800, 8, 10
    with tempfile.TemporaryDirectory() as tmp:
        home = prepare(Path(tmp), args.scale)
        key = admin_key(home.env)
        proc, url = start_server(home.env, Path(tmp) / "serve.log")
        try:
            common: dict[str, Any] = {
                "total": args.requests,
                "clients": args.clients,
                "allowed": home.versions,
                "key": key,
            }
            asyncio.run(run_phase(url, home.users, name="warm-up", **{**common, "total": 300}))
            steady = asyncio.run(run_phase(url, home.users, name="steady", **common))
            swap = (key, args.interval, args.min_swaps)
            swaps = asyncio.run(run_phase(url, home.users, name="swaps", swap=swap, **common))
            rollback = asyncio.run(rollback_check(url, key))
        finally:
            stop_server(proc)
            from gbrec_core.settings import Settings
            from gbrec_core.store import stop_server as stop_redis

            stop_redis(Settings(home=Path(home.env["GBREC_HOME"])))
    print(f"scale {args.scale}, versions v{home.versions[0]} and v{home.versions[1]}")
    report(steady, swaps, rollback, args.clients)


if __name__ == "__main__":
    main()
