"""Filtered recommendations: latency with filters vs without, on precomputed lists.

    .venv/bin/python benchmarks/filters.py --quick            # tiny synthetic set
    .venv/bin/python benchmarks/filters.py --scale small      # 5k users x 2k books

Two levels, each single-threaded on a real sqlite MLflow registry in a temporary
GBREC_HOME with an ALS champion and its precomputed lists built:

* ``ModelServer.recommend`` with the filter's mask (what the service adds per request:
  the mask lookup, the walk of the precomputed row, scoring over the allowed books
  only when too few pass) against the plain row slice;
* ``--api``: whole GraphQL requests through the ASGI app in-process (the query text
  the client sends, compiled path, serialisation), wall time per request.

    .venv/bin/python benchmarks/filters.py --api --quick
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gbrec_core.data import load_ratings
from gbrec_core.data.generator import generate
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import ModelServer
from gbrec_core.serving.catalog import BookCatalog
from gbrec_core.serving.filters import BookFilter, TagsMatch
from gbrec_core.serving.ranking import ListQuery
from gbrec_core.settings import Settings


def serve(home: Path, scale: str) -> tuple[ModelServer, BookCatalog, np.ndarray]:
    folder = generate(scale, home / "data", seed=42)  # type: ignore[arg-type]
    ratings = load_ratings(folder / "ratings.csv")
    settings = Settings(home=home)
    registry = ModelRegistry(settings)
    model = make_recommender("als", factors=64, iterations=8, seed=1).fit(ratings)
    fp = {"sha256": "bench", "rows": len(ratings), "users": 0, "books": 0}
    registry.register(registry.log_training_run(model, {"ndcg": 0.1}, {}, fp))
    registry.promote("1", force=True)
    server = ModelServer(settings, registry)
    server.start(watch=False)
    while server.precomputed.get("1") is None:  # the background ranking of every user
        time.sleep(0.2)
    return server, BookCatalog.from_folder(folder), ratings["user_id"].unique()


def filters(catalog: BookCatalog) -> dict[str, BookFilter]:
    index = catalog.index
    tags = sorted(index.tags, key=lambda t: -len(index.tags[t]))
    share = {t: len(index.tags[t]) / len(catalog) for t in tags}
    common = next(t for t in tags if share[t] < 0.5)
    rare = next(t for t in reversed(tags) if share[t] >= 0.01)
    authors = sorted(index.authors, key=lambda a: -len(index.authors[a]))[:5]
    return {
        f"tag (~{share[common]:.0%} of books)": BookFilter(tags=(common,)),
        "year 1950-2010 + rating >= 3.8": BookFilter(
            year_from=1950, year_to=2010, min_average_rating=3.8
        ),
        "exclude 2 tags + 5 authors + 20 ids": BookFilter(
            exclude_tags=tuple(tags[1:3]),
            exclude_authors=tuple(authors),
            exclude_book_ids=tuple(range(1, 21)),
        ),
        "2 tags, ALL": BookFilter(tags=(common, tags[1]), tags_match=TagsMatch.ALL),
        f"rare tag (~{share[rare]:.0%}: model scoring)": BookFilter(tags=(rare,)),
    }


def timed(call: Callable[[int], object], users: np.ndarray, n: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    samples = []
    for user in rng.choice(users, n).tolist():
        started = time.perf_counter()
        call(int(user))
        samples.append(time.perf_counter() - started)
    ms = np.asarray(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


API_FILTERS = {
    "no filter": "",
    "tags ANY (2 tags)": ', tags: ["fantasy", "romance"]',
    "year + rating + excluded tag": ', yearFrom: 1950, minAverageRating: 3.5, excludeTags: ["dnf"]',
    "2 tags ALL + exclude ids": ', tags: ["fantasy", "magic"], tagsMatch: ALL, '
    "excludeBookIds: [1, 2, 3]",
}


async def interleaved(
    posts: list[Callable[[int], Awaitable[bytes]]], requests: int
) -> list[tuple[float, float]]:
    """(p50, p99) ms per post, one request of each in turn (after 200 warm-up rounds)."""
    samples: list[list[float]] = [[] for _ in posts]
    for i in range(requests + 200):
        for post, times in zip(posts, samples, strict=True):
            started = time.perf_counter()
            await post(i)
            times.append(time.perf_counter() - started)
    out = []
    for times in samples:
        ms = np.asarray(times[200:]) * 1000
        out.append((float(np.percentile(ms, 50)), float(np.percentile(ms, 99))))
    return out


async def api_latencies(
    requests: int, scale: str, repeat: int = 3
) -> list[tuple[str, float, float]]:
    """p50/p99 wall ms of whole GraphQL requests, per filter, through the ASGI app."""
    import json

    from api_profile import _api_bench, asgi_poster

    from gbrec_core.store import stop_server
    from gbrec_graphql.app import create_app

    home = Path(tempfile.mkdtemp(prefix="gbrec-bench-filters-api-"))
    env = _api_bench().prepare(home, scale)
    settings = Settings(home=home / "home", dataset=env["GBREC_DATASET"], index_shards=1)
    users = json.loads(env["USERS"])
    app = create_app(settings)
    rows = []
    try:
        async with app.router.lifespan_context(app):
            while app.state.services.server.precomputed.get("1") is None:
                await asyncio.sleep(0.2)
            posts, names = [], []
            for name, extra in API_FILTERS.items():
                query = (
                    f"query R($u: Int!) {{ recommendations(userId: $u, limit: 10{extra}) "
                    "{ items { score book { title authors } } } }"
                )
                post = asgi_poster(app, users, "", query)  # dev mode: reads need no key
                items = json.loads(await post(0))["data"]["recommendations"]["items"]
                posts.append(post)
                names.append(f"{name} ({len(items)} items)")
            # Interleaved (one request of each kind in turn): the machine's load at any
            # moment weighs on every kind alike.
            runs = [await interleaved(posts, requests) for _ in range(repeat)]
            for j, name in enumerate(names):  # the median run of each percentile
                p50 = float(np.median([run[j][0] for run in runs]))
                rows.append((name, p50, float(np.median([run[j][1] for run in runs]))))
    finally:
        stop_server(settings)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "goodbooks"])
    parser.add_argument("--quick", action="store_true", help="tiny scale")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--api", action="store_true", help="whole GraphQL requests instead")
    parser.add_argument("--repeat", type=int, default=3, help="--api runs (medians shown)")
    args = parser.parse_args()
    if args.api:
        scale = "tiny" if args.quick else args.scale
        rows = asyncio.run(api_latencies(args.requests, scale, args.repeat))
        base = rows[0][2]
        print("| filter | p50 ms | p99 ms | p99 vs none |\n| --- | ---: | ---: | ---: |")
        for name, p50, p99 in rows:
            print(f"| {name} | {p50:.3f} | {p99:.3f} | {p99 / base:.2f}x |")
        return
    scale = "tiny" if args.quick else args.scale
    logging.basicConfig(level=logging.WARNING)
    server, catalog, users = serve(Path(tempfile.mkdtemp(prefix="gbrec-bench-filters-")), scale)
    plain = timed(lambda u: server.recommend(u, 11), users, args.requests)
    rows = [("no filter", plain, 1.0)]
    for name, wanted in filters(catalog).items():

        def call(user: int, wanted: BookFilter = wanted) -> object:
            return server.recommend(user, 11, None, ListQuery(catalog.mask(wanted)))

        found = timed(call, users, args.requests)
        rows.append((name, found, found[1] / plain[1]))
    server.stop()
    print(f"scale={scale}, {len(users):,} users, {len(catalog):,} books, limit 10 (+1)")
    print(pd.DataFrame(
        [(n, f"{p[0]:.3f}", f"{p[1]:.3f}", f"{r:.2f}x") for n, p, r in rows],
        columns=["filter", "p50 ms", "p99 ms", "p99 vs none"],
    ).to_markdown(index=False))  # fmt: skip


if __name__ == "__main__":
    main()
