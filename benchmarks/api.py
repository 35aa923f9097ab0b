"""Load test: GraphQL `recommendations` vs a bare Starlette endpoint of the same JSON size.

Both servers run under uvicorn (1 worker, same options) on 127.0.0.1 in child
processes; this process is the client: 32 concurrent httpx connections, bounded by a
request count and a time budget. Prints QPS, p50 and p99 for both, and the ratio.

    .venv/bin/python benchmarks/api.py            # 4,000 requests each
    .venv/bin/python benchmarks/api.py --quick    # 600 requests each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

QUERY = (
    "query R($u: Int!) { recommendations(userId: $u, limit: 10) "
    "{ items { score book { title authors } } } }"
)


def bare_app() -> object:
    """The baseline: Starlette returning a stored JSON body of the GraphQL answer's size."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = Path(os.environ["GBREC_BENCH_BODY"]).read_bytes()

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def prepare(home: Path, scale: str) -> dict[str, str]:
    from gbrec_core.data import load_ratings
    from gbrec_core.data.generator import generate
    from gbrec_core.models import make_recommender
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.settings import Settings

    data = home / "data"
    generate(scale, data)  # type: ignore[arg-type]
    env = {
        "GBREC_HOME": str(home / "home"),
        "GBREC_DATASET": str(data),
        "GBREC_ENV": "production",
        "GBREC_INDEX_KIND": "faiss-flat",
        "GBREC_INDEX_SHARDS": "1",
    }
    settings = Settings(home=home / "home", dataset=str(data))
    ratings = load_ratings(data / "ratings.csv")
    model = make_recommender("als", factors=32, iterations=5).fit(ratings)
    registry = ModelRegistry(settings)
    fp = {"sha256": "bench", "rows": len(ratings), "users": 0, "books": 0}
    version = registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp)).version
    registry.promote(version, force=True)
    env["USERS"] = json.dumps(sorted(set(ratings["user_id"].astype(int).tolist()))[:5000])
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=Path(__file__).parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if (
                httpx.post(
                    f"{url}/graphql", json={"query": "{ __typename }"}, timeout=1
                ).status_code
                == 200
            ):
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{target} did not start")


async def load(
    url: str, users: list[int], total: int, seconds: float, clients: int
) -> tuple[float, np.ndarray, int]:
    latencies: list[float] = []
    failures = 0
    issued = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            nonlocal failures, issued
            rng = np.random.default_rng(n)
            while issued < total and time.monotonic() < deadline:
                issued += 1
                user = int(users[rng.integers(len(users))])
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": QUERY, "variables": {"u": user}}
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or b'"errors"' in response.content:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, np.asarray(latencies) * 1000, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--scale", default="tiny")
    args = parser.parse_args()
    total = 600 if args.quick else args.requests
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp), args.scale)
        users = json.loads(env.pop("USERS"))
        api, api_url = launch("gbrec_graphql.app:create_app", env)
        try:
            sample = httpx.post(
                f"{api_url}/graphql", json={"query": QUERY, "variables": {"u": users[0]}}
            ).content
            body = Path(tmp) / "body.json"
            body.write_bytes(sample)
            asyncio.run(load(api_url, users, 200, 10, args.clients))  # warm-up
            rows = {
                "graphql recommendations": asyncio.run(
                    load(api_url, users, total, args.seconds, args.clients)
                )
            }
        finally:
            api.terminate()
            api.wait()
        sys.path.insert(0, str(Path(__file__).parent))
        bare, bare_url = launch("api:bare_app", {"GBREC_BENCH_BODY": str(body)})
        try:
            asyncio.run(load(bare_url, users, 200, 10, args.clients))
            rows["bare starlette"] = asyncio.run(
                load(bare_url, users, total, args.seconds, args.clients)
            )
        finally:
            bare.terminate()
            bare.wait()
        from gbrec_core.settings import Settings
        from gbrec_core.store import stop_server

        stop_server(Settings(home=Path(env["GBREC_HOME"])))
    print(f"\n{args.clients} concurrent clients, {total} requests, response {len(sample)} bytes\n")
    print(f"{'endpoint':<26}{'QPS':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}")
    for name, (qps, lat, failed) in rows.items():
        p50, p99 = np.percentile(lat, [50, 99])
        print(f"{name:<26}{qps:>9.0f}{p50:>9.1f}{p99:>9.1f}{failed:>8}")
    ratio = rows["graphql recommendations"][0] / rows["bare starlette"][0]
    p99 = float(np.percentile(rows["graphql recommendations"][1], 99))
    print(f"\nQPS ratio graphql/bare: {ratio:.2f} (target >= 0.5)")
    print(f"graphql p99 {p99:.1f} ms (target <= 50)")


if __name__ == "__main__":
    main()
