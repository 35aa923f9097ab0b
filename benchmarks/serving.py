"""Serving benchmark: deploy-to-first-answer, recommend() latency steady vs during swaps,
memory per cached version.

    .venv/bin/python benchmarks/serving.py --quick          # tiny synthetic set, ~1 min
    .venv/bin/python benchmarks/serving.py --scale goodbooks  # 53k users x 10k books, ALS

Everything runs against a real sqlite MLflow registry in a temporary GBREC_HOME.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from gbrec_core.models import Recommender, make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import ModelServer
from gbrec_core.settings import Settings


def ratings_for(scale: str, home: Path) -> pd.DataFrame:
    from gbrec_core.data import load_ratings
    from gbrec_core.data.generator import generate

    folder = generate(scale, home / "data", seed=42)  # type: ignore[arg-type]
    return load_ratings(folder / "ratings.csv")


def train(ratings: pd.DataFrame, seed: int, factors: int) -> Recommender:
    model = make_recommender("als", factors=factors, iterations=8, seed=seed)
    return model.fit(ratings)


def percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.asarray(samples) * 1000
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 99))


def load_run(server: ModelServer, users: np.ndarray, seconds: float, flip: bool) -> list[float]:
    """Latencies of recommend() from 4 client threads; flips the champion every 0.25 s."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def client(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not done.is_set():
            start = time.perf_counter()
            try:
                server.recommend(int(rng.choice(users)), k=10)
            except BaseException as e:
                errors.append(e)
            latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        if flip:
            server.deploy("2" if i % 2 == 0 else "1")
            i += 1
        time.sleep(0.25)
    done.set()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]!r}")
    return latencies


def deploy_to_first_answer(server: ModelServer, version: str, user: int) -> float:
    start = time.perf_counter()
    server.deploy(version)
    while server.recommend(user).version != version:
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "goodbooks"])
    parser.add_argument("--quick", action="store_true", help="tiny scale, short load runs")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    scale, seconds = ("tiny", 3.0) if args.quick else (args.scale, args.seconds)
    logging.basicConfig(level=logging.WARNING)
    home = Path(tempfile.mkdtemp(prefix="gbrec-bench-serving-"))
    settings = Settings(home=home, model_cache_size=3)
    ratings = ratings_for(scale, home)
    print(f"scale={scale}: {len(ratings):,} ratings, {ratings['user_id'].nunique():,} users, "
          f"{ratings['book_id'].nunique():,} books (home {home})")  # fmt: skip

    registry = ModelRegistry(settings)
    t0 = time.perf_counter()
    for seed in (1, 2):
        model = train(ratings, seed, factors=64)
        fp = {"sha256": "bench", "rows": len(ratings), "users": 0, "books": 0}
        registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp))
    registry.promote("1", force=True)
    print(f"train + log + register 2 ALS versions: {time.perf_counter() - t0:.1f} s")

    tracemalloc.start()
    server = ModelServer(settings, registry)
    server.start(watch=False)
    first = tracemalloc.get_traced_memory()[0]
    cold = deploy_to_first_answer(server, "2", user=int(ratings["user_id"].iloc[0]))
    second = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    warm = [deploy_to_first_answer(server, v, int(ratings["user_id"].iloc[0])) for v in "1212"]
    users = ratings["user_id"].unique()
    steady = percentiles(load_run(server, users, seconds, flip=False))
    swapping = percentiles(load_run(server, users, seconds, flip=True))
    stats = server.stats()

    rows = [
        ("deploy -> first answer, cold (download+verify+load)", f"{cold * 1000:.0f} ms"),
        ("deploy -> first answer, warm (cached, median of 4)", f"{np.median(warm) * 1000:.0f} ms"),
        ("recommend p50 / p99, steady", f"{steady[0]:.2f} / {steady[1]:.2f} ms"),
        ("recommend p50 / p99, swaps every 0.25 s", f"{swapping[0]:.2f} / {swapping[1]:.2f} ms"),
        ("p99 ratio swapping / steady", f"{swapping[1] / steady[1]:.2f}x"),
        ("memory per cached version (traced heap)", f"{(second - first) / 2**20:.1f} MiB"),
        (
            "bundle size on disk",
            f"{stats['cache_bytes'] / len(stats['cached_versions']) / 2**20:.1f} MiB",
        ),
        ("swaps / load failures", f"{stats['swaps']} / {stats['load_failures']}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
