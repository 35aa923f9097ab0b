"""Benchmark the training pipeline: generate, load, validate, fit, evaluate, peak memory.

    .venv/bin/python benchmarks/train.py [--scale goodbooks|small|tiny] [--models als ease ...]
    .venv/bin/python benchmarks/train.py --quick            # small scale, seconds
    .venv/bin/python benchmarks/train.py --shape series     # ratings-only data of another shape
    .venv/bin/python benchmarks/train.py --shape skewed --users 50000 --items 5000

Also compares ``make_recommender("als").fit(ratings)`` (everything: id maps, CSR,
confidences, fit) with ``implicit``'s own fit on the confidence matrix prepared
beforehand (same factors, iterations, regularisation, seed, ``num_threads`` and
``threadpool_limits``): interleaved repeats in alternating order, after a warm-up
import, reporting medians and the ratio of medians. And it evaluates a plain
``implicit`` ALS (64 factors, library defaults, ratings as the matrix values) as the
quality baseline.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_limits

from gbrec_core.evaluation import evaluate
from gbrec_core.models import make_recommender
from gbrec_core.models.als import ALSConfig, confidence
from gbrec_core.models.base import Recommender
from gbrec_core.models.hybrid import HybridRecommender

sys.path.insert(0, str(Path(__file__).parent))
import rating_shapes

SHAPES = {"latent": (53_424, 10_000), "series": (40_000, 10_000), "skewed": (100_000, 10_000)}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


class PlainImplicitALS(Recommender):
    """implicit's ALS exactly as a new user would run it: ratings in, library defaults."""

    name = "implicit-als-defaults"

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        assert self.seen is not None
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(factors=64, random_state=42)
            model.fit(self.seen, show_progress=False)
        self.user_factors, self.item_factors = model.user_factors, model.item_factors

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        return self.user_factors[user_idx] @ self.item_factors.T  # type: ignore[no-any-return]


def als_fit_comparison(train: pd.DataFrame, repeats: int) -> dict[str, list[float]]:
    """Seconds of gbrec's whole ALS fit and of implicit's own fit, interleaved."""
    from implicit.cpu.als import AlternatingLeastSquares

    config = ALSConfig()
    prepared = make_recommender("popularity").fit(train)
    assert prepared.seen is not None
    matrix = prepared.seen.copy()
    matrix.data = confidence(matrix.data, config.alpha, config.confidence)

    def gbrec() -> float:
        start = time.perf_counter()
        make_recommender("als").fit(train)
        return time.perf_counter() - start

    def raw() -> float:
        with threadpool_limits(1, "blas"):  # what gbrec's fit uses, so BLAS is equal
            model = AlternatingLeastSquares(
                factors=config.factors,
                iterations=config.iterations,
                regularization=config.regularization,
                alpha=1.0,
                random_state=config.seed,
                num_threads=config.num_threads,
            )
            start = time.perf_counter()
            model.fit(matrix, show_progress=False)
            return time.perf_counter() - start

    times: dict[str, list[float]] = {"gbrec": [], "implicit": []}
    for rep in range(repeats):
        # Alternate who goes first so cache warmth and load drift hit both alike.
        order = (("gbrec", gbrec), ("implicit", raw))
        for label, run in order if rep % 2 == 0 else order[::-1]:
            times[label].append(run())
    return times


def load_data(
    args: argparse.Namespace, timings: dict[str, float]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    from gbrec_core import data

    if args.shape:
        users, items = SHAPES[args.shape]
        if args.quick:
            users, items = users // 10, items // 4
        users, items = args.users or users, args.items or items
        start = time.perf_counter()
        ratings = getattr(rating_shapes, args.shape)(users, items)
        timings["generate"] = time.perf_counter() - start
        return ratings, None
    folder = args.data
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="gbrec-bench-"))
        start = time.perf_counter()
        data.generate(args.scale, folder, seed=42)
        timings["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    dataset = data.load_dataset(folder)
    timings["load"] = time.perf_counter() - start
    start = time.perf_counter()
    report = data.validate_dataset(folder)
    timings["validate"] = time.perf_counter() - start
    if not report.ok:
        Console().print(f"[yellow]validation found {len(report.violations)} violation kinds")
    from gbrec_core.models import books_with_tags

    books = books_with_tags(dataset.books, dataset.book_tags, dataset.tags)
    return dataset.ratings, books


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="goodbooks", choices=["tiny", "small", "goodbooks"])
    parser.add_argument(
        "--data", type=Path, default=None, help="Use this folder instead of generating."
    )
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None)
    parser.add_argument("--users", type=int, default=None, help="--shape: number of users")
    parser.add_argument("--items", type=int, default=None, help="--shape: number of books")
    parser.add_argument(
        "--models", nargs="+", default=["popularity", "als", "ease", "content", "hybrid"]
    )
    parser.add_argument("--quick", action="store_true", help="small scale")
    parser.add_argument(
        "--als-repeats", type=int, default=3, help="interleaved ALS timing pairs (0: skip)"
    )
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    if args.quick and args.scale == "goodbooks":
        args.scale = "small"
    console = Console()
    timings: dict[str, float] = {}
    ratings, books = load_data(args, timings)
    from gbrec_core.data import temporal_split

    split = temporal_split(ratings)
    console.print(f"ratings {len(ratings):,}  train {len(split.train):,}  test {len(split.test):,}")
    quality: dict[str, dict[str, float]] = {}
    models: list[tuple[str, Recommender]] = [(n, make_recommender(n)) for n in args.models]
    models.append(("implicit-als-defaults", PlainImplicitALS()))
    if args.als_repeats > 0:
        als_times = als_fit_comparison(split.train, args.als_repeats)
        for label, values in als_times.items():
            timings[f"ALS fit {label} (median of {len(values)})"] = statistics.median(values)
            console.print(f"ALS fit {label}: " + " ".join(f"{v:.1f}s" for v in values))
        ratio = statistics.median(als_times["gbrec"]) / statistics.median(als_times["implicit"])
    for label, model in models:
        start = time.perf_counter()
        model.fit(split.train, books)
        timings[f"fit {label}"] = time.perf_counter() - start
        start = time.perf_counter()
        quality[label] = evaluate(model, split.train, split.test, k=args.k)
        timings[f"evaluate {label}"] = time.perf_counter() - start
        if isinstance(model, HybridRecommender):
            console.print(f"hybrid blend {model.mix} configs {model.chosen}")
        console.print(
            f"{label}: fit {timings[f'fit {label}']:.1f}s  "
            f"ndcg {quality[label]['ndcg']:.4f}  peak {peak_rss_gb():.2f} GB"
        )
    times = Table(title=f"timings ({args.shape or args.scale})")
    times.add_column("step")
    times.add_column("seconds", justify="right")
    for step, seconds in timings.items():
        times.add_row(step, f"{seconds:.2f}")
    fits = [v for step, v in timings.items() if step.startswith("fit ")]
    times.add_row("all model fits", f"{sum(fits):.2f}")
    if args.als_repeats > 0:
        times.add_row("gbrec ALS fit / implicit fit (ratio of medians)", f"{ratio:.2f}x")
    times.add_row("peak RSS (GB)", f"{peak_rss_gb():.2f}")
    console.print(times)
    table = Table(title=f"quality @ {args.k} (temporal split)")
    table.add_column("model")
    for metric in ("ndcg", "precision", "recall", "map", "hit_rate", "coverage"):
        table.add_column(metric, justify="right")
    for label, metrics in quality.items():
        table.add_row(
            label,
            *(
                f"{metrics[m]:.4f}"
                for m in ("ndcg", "precision", "recall", "map", "hit_rate", "coverage")
            ),
        )
    console.print(table)


if __name__ == "__main__":
    main()
