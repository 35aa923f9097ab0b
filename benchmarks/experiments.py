"""Benchmark of the A/B engine on the embedded Redis.

Measures assignments/s, exposures/s and events/s ingested through the store with
batching (users pseudonymised on the way, as in production), the time to compute
results for an experiment with N exposed users (1M by default) and the time to erase
one user (a full pass over the raw-event logs). Results only read the variants' running
sums, so their cost does not grow with users or events.

    .venv/bin/python benchmarks/experiments.py            # 1M users
    .venv/bin/python benchmarks/experiments.py --quick    # 50k users, smaller batches
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gbrec_core.experiments import (
    Event,
    EventType,
    ExperimentService,
    ExperimentSpec,
    ExposureRow,
    VariantSpec,
)
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.experiments.hashing import gb_hash
from gbrec_core.settings import Settings
from gbrec_core.store import connect, stop_server

SPEC = ExperimentSpec(
    id="bench",
    variants=(VariantSpec("control", "champion"), VariantSpec("treatment", "challenger")),
    metrics=("ctr", "satisfaction", "precision", "recall"),
    auto_stop=False,
)


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


def bench_assign(service: ExperimentService, n: int) -> list[tuple[str, str, str]]:
    start = time.perf_counter()
    for u in range(n):
        service.assign("bench", u)
    t_assign = time.perf_counter() - start
    start = time.perf_counter()
    for u in range(n):
        gb_hash("bench", str(u), 2)
    t_hash = time.perf_counter() - start
    return [
        ("assign() (service, cached definition)", f"{n:,}", _rate(n, t_assign)),
        ("gb_hash v2 (scalar)", f"{n:,}", _rate(n, t_hash)),
    ]


def bench_exposures(service: ExperimentService, users: int, batch: int, books: int) -> float:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for lo in range(0, users, batch):
        rows = [
            ExposureRow(u, u % 2, 0.0, rng.integers(1, 10_001, books).tolist())
            for u in range(lo, min(lo + batch, users))
        ]
        service.record_exposures("bench", rows, request_id=f"req-{lo}")
    return time.perf_counter() - start


def _events(rng: np.random.Generator, users: int, n: int) -> list[Event]:
    kinds = [EventType.IMPRESSION, EventType.CLICK, EventType.RATING, EventType.SATISFACTION]
    out = []
    for u, k, b, v in zip(
        rng.integers(0, users, n).tolist(),
        rng.integers(0, 4, n).tolist(),
        rng.integers(1, 10_001, n).tolist(),
        rng.integers(1, 6, n).tolist(),
        strict=True,
    ):
        kind = kinds[k]
        value = float(v) if kind in (EventType.RATING, EventType.SATISFACTION) else None
        out.append(Event(u, kind, "bench", b, f"r{u}", value))
    return out


@dataclass(frozen=True)
class Timing:
    """Wall time, and the CPU time each side spent: on a shared machine the wall rate
    falls with other people's load, CPU per event much less."""

    wall: float
    client_cpu: float
    server_cpu: float


def _server_cpu(service: ExperimentService) -> float:
    info = service.store.r.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def bench_events(
    service: ExperimentService, users: int, total: int, batch: int, writers: int
) -> Timing:
    """``writers`` threads (like API workers) so Python-side batch preparation overlaps
    the server's script execution."""
    rng = np.random.default_rng(1)
    batches = [_events(rng, users, batch) for _ in range(max(total // batch, 1))]

    def send(evs: list[Event]) -> None:
        result = service.record_events(evs)
        assert result.rejected == 0 and result.buffered == 0

    start, cpu, server = time.perf_counter(), time.process_time(), _server_cpu(service)
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(send, batches))
    return Timing(
        time.perf_counter() - start,
        time.process_time() - cpu,
        _server_cpu(service) - server,
    )


def bench_erasure(service: ExperimentService, user: int, logged: int) -> tuple[str, str, str]:
    """One user's erasure: state, sums and a full pass over the raw-event logs, which
    hold ``logged`` exposures and events."""
    start = time.perf_counter()
    done = erase_user(service, user)
    seconds = time.perf_counter() - start
    label = f"erase one user ({done.raw_events} lines of {logged:,} logged)"
    return (label, "1", f"{seconds * 1000:,.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--books", type=int, default=5, help="books shown per exposure")
    parser.add_argument("--writers", type=int, default=1, help="threads recording events")
    args = parser.parse_args()
    users = args.users or (50_000 if args.quick else 1_000_000)
    n_events = args.events or (50_000 if args.quick else 500_000)

    home = Path(tempfile.mkdtemp(prefix="gbrec-bench-"))
    settings = Settings(home=home, event_retention_days=30)
    client = connect(settings)
    try:
        service = ExperimentService(settings, client)
        service.create(SPEC)
        rows = bench_assign(service, 20_000 if args.quick else 200_000)
        t_exp = bench_exposures(service, users, args.batch, args.books)
        rows.append((f"exposures ingested (batch {args.batch})", f"{users:,}", _rate(users, t_exp)))
        for writers in sorted({1, args.writers}):
            t_ev = bench_events(service, users, n_events, args.batch, writers)
            label = f"events ingested (batch {args.batch}, {writers} writer(s))"
            rows.append((label, f"{n_events:,}", _rate(n_events, t_ev.wall)))
            cpu = f"{t_ev.client_cpu / n_events * 1e6:.1f} + {t_ev.server_cpu / n_events * 1e6:.1f}"
            rows.append(("  CPU per event: client + Redis", "", f"{cpu} µs"))
        timings = []
        for _ in range(7):
            start = time.perf_counter()
            res = service.results("bench")
            timings.append(time.perf_counter() - start)
        exposed = sum(v.users for v in res.variants)
        rows.append(
            (
                f"results() for {exposed:,} exposed users",
                "median of 7",
                f"{statistics.median(timings) * 1000:.1f} ms",
            )
        )
        passes = len({1, args.writers})
        rows.append(bench_erasure(service, users // 2, users + passes * n_events))
        mem = client.info("memory")["used_memory_human"]
        rows.append(("Redis memory after the run", "", str(mem)))
    finally:
        client.close()
        stop_server(settings)
        shutil.rmtree(home, ignore_errors=True)  # a --quick run leaves a 58 MB AOF

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'n':>12}  {'result':>14}")
    for name, n, value in rows:
        print(f"{name:<{width}}  {n:>12}  {value:>14}")


if __name__ == "__main__":
    main()
