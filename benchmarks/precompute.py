"""Precomputed top-N lists: build time and memory per model family, lookup vs scoring.

    .venv/bin/python benchmarks/precompute.py --scale goodbooks   # 53k users x 10k books
    .venv/bin/python benchmarks/precompute.py --scale tiny --families als,popularity

For each family: fit on the synthetic set, build the table the API builds in the
background after loading a version (``GBREC_PRECOMPUTE_DEPTH``, one BLAS thread), then
time a one-user ``recommend`` (what a request pays without the table) against a table
lookup, over the same 2,000 users.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from gbrec_core.data import load_books, load_ratings
from gbrec_core.data.generator import generate
from gbrec_core.models import make_recommender
from gbrec_core.serving.precompute import build_table

FAST_CONFIGS: dict[str, dict[str, object]] = {"als": {"iterations": 8}}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="small", choices=["tiny", "small", "goodbooks"])
    parser.add_argument("--families", default="popularity,als,ease,hybrid")
    parser.add_argument("--depth", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = generate(args.scale, Path(tmp) / "data", seed=42)  # type: ignore[arg-type]
        ratings = load_ratings(folder / "ratings.csv")
        books = load_books(folder / "books.csv")
    print(f"\n{len(ratings):,} ratings, depth {args.depth}\n")
    print("| model | fit s | table build s | table MB | score one user µs | lookup µs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    rng = np.random.default_rng(0)
    for family in args.families.split(","):
        started = time.perf_counter()
        model = make_recommender(family, **FAST_CONFIGS.get(family, {})).fit(ratings, books)
        fit = time.perf_counter() - started
        table = build_table("1", model, args.depth)
        assert model.users is not None
        users = rng.choice(model.users.ids, size=min(2000, len(model.users)), replace=False)
        started = time.perf_counter()
        for user in users.tolist():
            model.recommend(np.array([user]), k=10)
        score = (time.perf_counter() - started) / len(users) * 1e6
        started = time.perf_counter()
        for user in users.tolist():
            table.lookup(user, 10)
        lookup = (time.perf_counter() - started) / len(users) * 1e6
        print(
            f"| {family} | {fit:.1f} | {table.seconds:.1f} | {table.nbytes / 1e6:.0f} "
            f"| {score:.0f} | {lookup:.1f} |"
        )


if __name__ == "__main__":
    main()
