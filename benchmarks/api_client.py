"""The load generators of ``benchmarks/api.py``: a lean raw-HTTP client and httpx.

The lean client writes pre-built HTTP/1.1 requests on keep-alive connections over
asyncio streams (run it on uvloop) and reads ``Content-Length`` bodies: ~20 µs of
client CPU per request against several hundred for httpx, which matters when client
and server share 2 cores.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter

import httpx
import numpy as np
import orjson

QUERY = (
    "query R($u: Int!) { recommendations(userId: $u, limit: 10) "
    "{ items { score book { title authors } } } }"
)
#: The same list, filtered inside the ranking (issue 16): tags of the synthetic set.
FILTERED_QUERY = (
    'query R($u: Int!) { recommendations(userId: $u, limit: 10, tags: ["fantasy", "romance"], '
    'yearFrom: 1950, minAverageRating: 3.5, excludeTags: ["dnf"]) '
    "{ items { score book { title authors } } } }"
)
Result = tuple[float, np.ndarray, int]  # QPS, latencies in ms, failures
Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def requests_for(users: list[int], port: int, query: str = QUERY, key: str = "") -> list[bytes]:
    """Pre-built HTTP/1.1 keep-alive POSTs, one per user, with the read key production
    mode requires (the bare endpoint ignores both)."""
    built = []
    auth = f"X-API-Key: {key}\r\n" if key else ""
    for user in users[:1000]:
        body = orjson.dumps({"query": query, "variables": {"u": user}})
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        built.append(head.encode() + body)
    return built


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


async def lean_load(conns: list[Conn], requests: list[bytes], total: int, seconds: float) -> Result:
    """``total`` requests over open keep-alive connections; (QPS, ms, failures)."""
    latencies: list[float] = []
    failures = 0
    issued = 0
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        nonlocal failures, issued
        reader, writer = conns[n]
        i = n * 7919
        while issued < total and time.monotonic() < deadline:
            issued += 1
            i += 1
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            match = _LENGTH.search(head)
            body = await reader.readexactly(int(match.group(1))) if match else b""
            latencies.append(time.perf_counter() - started)
            if head[9:12] != b"200" or b'"errors"' in body:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(len(conns))))
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, np.asarray(latencies) * 1000, failures


async def httpx_load(
    port: int, users: list[int], total: int, seconds: float, clients: int, key: str = ""
) -> Result:
    latencies: list[float] = []
    failures = 0
    issued = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": key} if key else {}
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=30, headers=headers
    ) as client:
        deadline = time.monotonic() + seconds

        async def worker(n: int) -> None:
            nonlocal failures, issued
            i = n * 7919
            while issued < total and time.monotonic() < deadline:
                issued += 1
                i += 1
                body = {"query": QUERY, "variables": {"u": users[i % len(users)]}}
                started = time.perf_counter()
                response = await client.post("/graphql", json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or b'"errors"' in response.content:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, np.asarray(latencies) * 1000, failures


async def staggered(port: int, built: list[bytes], clients: int) -> list[Conn]:
    """Open the connections one at a time while the earlier ones are busy.

    uvicorn's workers share one listening socket and each accepts everything pending
    when it wakes, so a burst of 32 connects to idle workers often lands on one of
    them; opening them under load lets the less busy worker accept (as with real,
    staggered clients).
    """
    conns: list[Conn] = []
    stop = asyncio.Event()

    async def busy(conn: Conn) -> None:
        while not stop.is_set():
            await lean_load([conn], built, 1, 10)

    tasks = []
    for _ in range(clients):
        conns.append(await asyncio.open_connection("127.0.0.1", port))
        tasks.append(asyncio.ensure_future(busy(conns[-1])))
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(*tasks)
    return conns


async def balanced(port: int, built: list[bytes], clients: int, workers: int) -> list[Conn]:
    """Connections spread evenly over the server's worker processes, as a load balancer
    in front of them would spread them.

    Each new connection first completes one request (so a worker has accepted it), then
    ``ss`` tells which process owns it; a connection that landed on a worker already
    holding its share is closed and opened again (up to 50 tries). Applied to every
    server alike, it removes the kernel's uneven accept split from the comparison.
    """
    if workers <= 1:
        return await staggered(port, built, clients)
    share = -(-clients // workers)
    owners: Counter[str] = Counter()
    conns: list[Conn] = []
    for _ in range(clients):
        for _attempt in range(50):
            conn = await asyncio.open_connection("127.0.0.1", port)
            await lean_load([conn], built, 1, 10)
            owner = _owner(port, conn[1].get_extra_info("sockname")[1])
            if owner is not None and owners[owner] < share:
                owners[owner] += 1
                conns.append(conn)
                break
            conn[1].close()
        else:  # keep an unbalanced connection rather than run with fewer clients
            conns.append(await asyncio.open_connection("127.0.0.1", port))
    return conns


def _owner(port: int, client_port: int) -> str | None:
    """The pid of the server process holding our connection from ``client_port``."""
    pids = _server_pids(f"( sport = :{port} and dport = :{client_port} )")
    return pids[0] if pids else None


def _server_pids(selection: str) -> list[str]:
    """Owning pid of each established connection ``ss`` selects."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", selection],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return re.findall(r"pid=(\d+)", out)


def spread(port: int) -> str:
    """Established connections per server pid (how the kernel split the clients)."""
    pids = Counter(_server_pids(f"( sport = :{port} )"))
    return "/".join(str(n) for n in sorted(pids.values(), reverse=True)) or "?"
