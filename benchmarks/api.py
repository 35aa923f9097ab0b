"""Load test: GraphQL `recommendations` vs a bare Starlette endpoint of the same JSON size.

Both servers run under uvicorn (same options: httptools, uvloop, no access log; 1 and
2 workers) on 127.0.0.1 in child processes; this process is the client: 32 concurrent
keep-alive connections, bounded by a request count and a time budget. Prints QPS, p50
and p99 for both, the ratio, and the load average around every run (the machine is
shared, so each configuration is run ``--repeat`` times and medians are reported).

The default client is lean: raw HTTP/1.1 over asyncio streams on uvloop, writing
pre-built requests and reading ``Content-Length`` bodies (~20 µs of client CPU per
request), so on 2 cores the numbers reflect the server rather than the load generator.
``--client httpx`` uses httpx (several hundred µs per request) for comparison.
With several workers the connections are balanced over them (each checked with
``ss``), as a load balancer in front of the workers would; the last column shows the
split. ``--rest`` adds the same answer from a plain JSON route over the same services,
``--ablation`` GraphQL with compiled queries off and with precomputed lists off,
``--filters`` the same query with filters (tags, year, rating, excluded tags).

    .venv/bin/python benchmarks/api.py                    # 4,000 requests, workers 1 and 2
    .venv/bin/python benchmarks/api.py --quick            # 600 requests, 1 repeat
    .venv/bin/python benchmarks/api.py --workers 2 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from api_client import (
    FILTERED_QUERY,
    QUERY,
    Result,
    balanced,
    httpx_load,
    lean_load,
    requests_for,
    spread,
)

GRAPHQL_TARGET = "gbrec_graphql.app:create_app"
BARE_TARGET = "api:bare_app"
REST_TARGET = "api:rest_app"


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


def rest_app() -> object:
    """The same answer without GraphQL: the API's services, one plain JSON route.

    Not part of the acceptance criterion: it separates what the GraphQL layer costs
    from what the model, the catalogue and HTTP cost. Served at ``/graphql`` (the
    GraphQL route is replaced) so the same pre-built requests hit it.
    """
    import orjson as json_
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from gbrec_graphql.app import create_app

    async def endpoint(request: Request) -> Response:
        variables = json_.loads(await request.body())["variables"]
        services = request.app.state.services
        rec = await services.service.recommend(int(variables["u"]), 10)
        records = services.catalog.get_many(rec.book_ids)
        items = [
            {"score": score, "book": {"title": r.title, "authors": r.authors}}
            for score, r in zip(rec.scores, records, strict=True)
            if r is not None
        ]
        body = {"data": {"recommendations": {"items": items}}}
        return Response(json_.dumps(body), media_type="application/json")

    app = create_app()
    app.graphql_view = Route("/graphql", endpoint, methods=["POST"])  # the POST lane
    return app


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
    from gbrec_core.access import Scope, create_key
    from gbrec_core.store import connect

    env["READ_KEY"] = create_key(connect(settings), Scope.READ).key  # production needs one
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    target: str, env: dict[str, str], workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """uvicorn ``target`` (a factory) on a free port; returns once every worker started."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers), "--log-level", "info"]
    cmd += ["--no-access-log", "--http", "httptools", "--loop", "uvloop"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env},
            cwd=Path(__file__).parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        started = log.read_text(errors="replace").count("Application startup complete")
        if started >= workers and _accepts(port):
            return proc, port
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{target} did not start:\n{log.read_text(errors='replace')[-3000:]}")


def await_precomputed(port: int, env: dict[str, str], timeout: float = 120.0) -> None:
    """Until /readyz says the top-N lists are built (in every worker: 20 answers in a
    row), so the run measures serving, not the build."""
    if env.get("GBREC_PRECOMPUTE_DEPTH") == "0":
        return
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 20 and time.monotonic() < deadline:
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json().get("precomputed")
        streak = streak + 1 if ready else 0
        time.sleep(0.02 if ready else 0.2)


def _accepts(port: int) -> bool:
    """The server answers TCP connects (its log line can come first)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def measure(
    port: int, users: list[int], args: argparse.Namespace, workers: int = 1, query: str = QUERY
) -> tuple[Result, str]:
    async def run() -> tuple[Result, str]:
        if args.client == "httpx":
            return await httpx_load(
                port, users, args.total, args.seconds, args.clients, args.read_key
            ), "?"
        built = requests_for(users, port, query, args.read_key)
        conns = await balanced(port, built, args.clients, workers)
        try:
            await lean_load(conns, built, 300, 10)  # warm-up
            where = spread(port)
            return await lean_load(conns, built, args.total, args.seconds), where
        finally:
            for _, writer in conns:
                writer.close()

    import uvloop

    return uvloop.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 requests, 1 repeat")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--client", choices=["lean", "httpx"], default="lean")
    parser.add_argument("--scale", default="tiny")
    parser.add_argument(
        "--rest", action="store_true", help="also a plain JSON route over the same services"
    )
    parser.add_argument(
        "--filters", action="store_true", help="also GraphQL recommendations with filters"
    )
    parser.add_argument(
        "--ablation",
        action="store_true",
        help="also GraphQL without compiled queries, and without precomputed top-N lists",
    )
    args = parser.parse_args()
    args.total = 600 if args.quick else args.requests
    repeat = 1 if args.quick else args.repeat
    workers = [int(w) for w in args.workers.split(",")]
    runs: dict[tuple[str, int], list[Result]] = {}
    loads: list[float] = []
    spreads: dict[tuple[str, int], list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = prepare(Path(tmp), args.scale)
        users = json.loads(env.pop("USERS"))
        args.read_key = env.pop("READ_KEY")
        body = Path(tmp) / "body.json"
        targets = {"graphql recommendations": (GRAPHQL_TARGET, env)}
        targets["bare starlette"] = (BARE_TARGET, {"GBREC_BENCH_BODY": str(body)})
        if args.rest:
            targets["plain JSON route, same services"] = (REST_TARGET, env)
        queries = {}
        if args.filters:
            targets["graphql recommendations, filtered"] = (GRAPHQL_TARGET, env)
            queries["graphql recommendations, filtered"] = FILTERED_QUERY
        if args.ablation:
            targets["graphql, compiled off"] = (
                GRAPHQL_TARGET,
                {**env, "GBREC_GRAPHQL_COMPILED": "false"},
            )
            targets["graphql, precompute off"] = (
                GRAPHQL_TARGET,
                {**env, "GBREC_PRECOMPUTE_DEPTH": "0"},
            )
        for _ in range(repeat):
            for n in workers:
                for name, (target, target_env) in targets.items():
                    proc, port = launch(target, target_env, n, Path(tmp) / "server.log")
                    try:
                        if target in (GRAPHQL_TARGET, REST_TARGET):
                            await_precomputed(port, target_env)
                        if not body.exists():
                            payload = {"query": QUERY, "variables": {"u": users[0]}}
                            url = f"http://127.0.0.1:{port}/graphql"
                            auth = {"X-API-Key": args.read_key}
                            body.write_bytes(httpx.post(url, json=payload, headers=auth).content)
                        loads.append(os.getloadavg()[0])
                        try:
                            query = queries.get(name, QUERY)
                            result, where = measure(port, users, args, n, query)
                        except OSError as e:
                            log = (Path(tmp) / "server.log").read_text(errors="replace")
                            raise SystemExit(f"{name}, {n} workers: {e!r}\n{log[-3000:]}") from e
                        runs.setdefault((name, n), []).append(result)
                        spreads.setdefault((name, n), []).append(where)
                    finally:
                        proc.terminate()
                        proc.wait()
        from gbrec_core.settings import Settings
        from gbrec_core.store import stop_server

        stop_server(Settings(home=Path(env["GBREC_HOME"])))
        size = body.stat().st_size
    report(runs, spreads, loads, args, size, repeat)


def report(
    runs: dict[tuple[str, int], list[Result]],
    spreads: dict[tuple[str, int], list[str]],
    loads: list[float],
    args: argparse.Namespace,
    size: int,
    repeat: int,
) -> None:
    print(
        f"\n{args.clients} concurrent {args.client} clients, {args.total} requests, "
        f"response {size} bytes; median of {repeat} run(s); 1-min load average at the "
        f"runs' start: {min(loads):.1f}-{max(loads):.1f}\n"
    )
    print("| endpoint | workers | QPS | p50 ms | p99 ms | failed | connections per worker |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    medians: dict[tuple[str, int], tuple[float, float, float]] = {}
    for (name, n), results in runs.items():
        qps = statistics.median(r[0] for r in results)
        p50 = statistics.median(float(np.percentile(r[1], 50)) for r in results)
        p99 = statistics.median(float(np.percentile(r[1], 99)) for r in results)
        failed = sum(r[2] for r in results)
        medians[(name, n)] = (qps, p50, p99)
        where = ", ".join(spreads[(name, n)])
        print(f"| {name} | {n} | {qps:.0f} | {p50:.1f} | {p99:.1f} | {failed} | {where} |")
    print()
    for n in sorted({n for _, n in medians}):
        gql, bare = medians[("graphql recommendations", n)], medians[("bare starlette", n)]
        print(
            f"workers {n}: QPS ratio graphql/bare {gql[0] / bare[0]:.2f} (target >= 0.5), "
            f"graphql p99 {gql[2]:.1f} ms (target <= 50)"
        )


if __name__ == "__main__":
    main()
