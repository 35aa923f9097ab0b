"""Offline quality of the hybrid's parts against EASE at its best lambda, with fit times.

    PYTHONPATH=. .venv/bin/python benchmarks/quality.py                      # all shapes
    PYTHONPATH=. .venv/bin/python benchmarks/quality.py --data tune          # one shape
    PYTHONPATH=. .venv/bin/python benchmarks/quality.py --goodbooks DIR      # + a ratings.csv

Protocol (the acceptance one): per-user temporal 80/20 split in row order, positives
= rating >= 4, training items excluded, NDCG@10 over the full catalogue. The baseline
is EASE at the best lambda of a wide grid *chosen on the test set* (the strongest
EASE there is); every other model chooses its knobs without the test set (the hybrid
on its own inner validation split). Rows: plain ``implicit`` ALS (library defaults),
the hybrid as it was (time-aware search off), the new time-aware candidates on their
own (recency-weighted EASE at the best lambda for each half-life of the hybrid's
grid; popularity decayed from the end and from each reader), and the new hybrid.

Data: MovieLens-shape generated sets with time dynamics (``temporal_shapes``): the
``tune`` shape is the one the grids were chosen on; ``ml1m`` (another seed, more
users) and ``long`` (another seed and shape: more, lighter users active over long
spans) are reported, never tuned on. ``synthetic`` is the data layer's GoodBooks-like
generator (small scale), whose rating order within a user is random: a control where
time carries no signal. ``--goodbooks DIR`` adds any ``ratings.csv`` in GoodBooks
format (rows in time order), read in place, never copied.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from gbrec_core.data import temporal_split
from gbrec_core.data.generator import generate
from gbrec_core.evaluation import evaluate
from gbrec_core.models import make_recommender
from gbrec_core.models.als import ALSRecommender
from gbrec_core.models.base import IdMap, Recommender, interactions
from gbrec_core.models.ease import EASEConfig, EASERecommender, ease_grid, mean_item_degree
from gbrec_core.models.hybrid import IMPLICIT_DEFAULTS, HybridConfig, HybridRecommender

sys.path.insert(0, str(Path(__file__).parent))
from temporal_shapes import TemporalShape, movielens
from train import PlainImplicitALS

SHAPES = {
    "tune": TemporalShape(n_users=3000, seed=11),
    "ml1m": TemporalShape(n_users=6000, seed=1),
    "long": TemporalShape(n_users=9000, mean_activity=45.0, long_share=0.5, seed=2),
}
LAMBDA_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


@dataclasses.dataclass
class Row:
    model: str
    ndcg: float
    fit_s: float
    note: str = ""


#: The hybrid as it was before the time-aware search (empty grids switch it off).
STATIC: dict[str, object] = {"half_life_grid": (), "popularity_half_lives": ()}


def load(name: str, goodbooks: Path | None) -> pd.DataFrame:
    if name in SHAPES:
        return movielens(SHAPES[name])
    if name == "synthetic":
        with tempfile.TemporaryDirectory() as tmp:
            return pd.read_csv(generate("small", Path(tmp), seed=7) / "ratings.csv")
    assert goodbooks is not None
    return pd.read_csv(goodbooks / "ratings.csv", usecols=["user_id", "book_id", "rating"])


def timed(fit: Callable[[], Recommender]) -> tuple[Recommender, float]:
    start = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - start


def best_ease(train: pd.DataFrame, test: pd.DataFrame) -> tuple[EASERecommender, Row]:
    """EASE at each lambda of the grid (one shared Gram matrix); the test's best."""
    users = IdMap.from_values(train["user_id"].to_numpy())
    items = IdMap.from_values(train["book_id"].to_numpy())
    seen = interactions(train, users, items)
    degree = mean_item_degree(seen)
    best: tuple[float, EASERecommender, float] | None = None
    start = time.perf_counter()
    l2s = [m * degree for m in LAMBDA_MULTIPLES]
    for model in ease_grid(users, items, seen, train, l2s, EASEConfig()):
        fit_s = time.perf_counter() - start
        ndcg = evaluate(model, train, test)["ndcg"]
        if best is None or ndcg > best[0]:
            best = (ndcg, model, fit_s)
        start = time.perf_counter()
    assert best is not None
    ndcg, model, fit_s = best
    multiple = model.config.l2 / degree
    return model, Row("EASE, best lambda on test", ndcg, fit_s, f"lambda = {multiple:g} x degree")


def recency_rows(ease: EASERecommender, train: pd.DataFrame, test: pd.DataFrame) -> list[Row]:
    """The best-lambda EASE and implicit-default ALS scored with recency-weighted
    histories, per half-life of the hybrid's grid."""
    rows = []
    for half_life in HybridConfig().half_life_grid:
        config = dataclasses.replace(ease.config, half_life=half_life)
        model, fit_s = timed(lambda c=config: EASERecommender(c).fit(train))
        ndcg = evaluate(model, train, test)["ndcg"]
        rows.append(Row(f"EASE recency-weighted, half-life {half_life:g}", ndcg, fit_s))
    for half_life in HybridConfig().half_life_grid:
        als = dataclasses.replace(IMPLICIT_DEFAULTS, half_life=half_life)
        model, fit_s = timed(lambda c=als: ALSRecommender(c).fit(train))
        ndcg = evaluate(model, train, test)["ndcg"]
        label = f"ALS (implicit defaults) recency-weighted, half-life {half_life:g}"
        rows.append(Row(label, ndcg, fit_s))
    return rows


def popularity_rows(train: pd.DataFrame, test: pd.DataFrame) -> list[Row]:
    rows = []
    configs: list[dict[str, object]] = [{}] + [
        {"half_life": h, "anchor": a}
        for h in HybridConfig().popularity_half_lives
        for a in ("end", "user")
    ]
    for config in configs:
        model, fit_s = timed(lambda c=config: make_recommender("popularity", **c).fit(train))
        label = "popularity" + (f", decayed {config}" if config else "")
        rows.append(Row(label, evaluate(model, train, test)["ndcg"], fit_s))
    return rows


def hybrid_row(label: str, train: pd.DataFrame, test: pd.DataFrame, **config: object) -> Row:
    model, fit_s = timed(lambda: make_recommender("hybrid", **config).fit(train))
    assert isinstance(model, HybridRecommender)
    return Row(label, evaluate(model, train, test)["ndcg"], fit_s, _blend(model))


def _blend(model: HybridRecommender) -> str:
    """The chosen parts and weights, with each time-aware part's half-life."""
    return ", ".join(f"{f} {w:.2f}{_time_note(model, f)}" for f, w in model.mix.items())


def _time_note(model: HybridRecommender, family: str) -> str:
    chosen = model.chosen[family]
    half_life = getattr(chosen, "half_life", None)
    if half_life is None:
        return ""
    anchor = getattr(chosen, "anchor", None)
    return f" (half-life {half_life:g}" + (f", {anchor})" if anchor else ")")


def measure(name: str, ratings: pd.DataFrame) -> None:
    split = temporal_split(ratings)
    train, test = split.train, split.test
    print(
        f"\n### {name}: {len(ratings):,} ratings, {ratings['user_id'].nunique():,} users, "
        f"{ratings['book_id'].nunique():,} items, {test['user_id'].nunique():,} test users\n",
        flush=True,
    )
    ease, base = best_ease(train, test)
    plain, plain_s = timed(lambda: PlainImplicitALS().fit(train))
    rows = [
        base,
        Row("implicit ALS, library defaults", evaluate(plain, train, test)["ndcg"], plain_s),
    ]
    rows.append(hybrid_row("hybrid as before (no time-aware search)", train, test, **STATIC))
    rows += recency_rows(ease, train, test)
    rows += popularity_rows(train, test)
    rows.append(hybrid_row("**hybrid (time-aware search)**", train, test))
    print("| model | NDCG@10 | x EASE best lambda | fit s | chosen |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row.model} | {row.ndcg:.4f} | {row.ndcg / base.ndcg:.3f} | {row.fit_s:.1f} "
            f"| {row.note} |",
            flush=True,
        )


def fit_times(scale: str, repeats: int) -> None:
    """Fit seconds of the hybrid as before and of the time-aware one on the data
    layer's generated set at ``scale``: ``repeats`` pairs, the order alternating
    (old-new, new-old, ...) so that load drift on a shared machine hits both alike."""
    with tempfile.TemporaryDirectory() as tmp:
        ratings = pd.read_csv(generate(scale, Path(tmp), seed=42) / "ratings.csv")
    train = temporal_split(ratings).train
    print(f"\n### fit time, synthetic {scale}: {len(train):,} training ratings\n")
    print("| model | fit s | chosen |")
    print("| --- | ---: | --- |")
    pair = [("hybrid as before", STATIC), ("hybrid (time-aware search)", {})]
    for rep in range(repeats):
        for label, config in pair if rep % 2 == 0 else pair[::-1]:
            model, fit_s = timed(lambda c=config: make_recommender("hybrid", **c).fit(train))
            assert isinstance(model, HybridRecommender)
            print(f"| {label} | {fit_s:.1f} | {_blend(model)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", nargs="+", default=[*SHAPES, "synthetic"], choices=[*SHAPES, "synthetic"]
    )
    parser.add_argument("--goodbooks", type=Path, default=None, help="folder with ratings.csv")
    parser.add_argument("--repeats", type=int, default=2, help="--fit-time: pairs of fits")
    parser.add_argument(
        "--fit-time",
        choices=["tiny", "small", "goodbooks"],
        default=None,
        help="only time the old and the new hybrid's fit on the generated set of this scale",
    )
    args = parser.parse_args()
    if args.fit_time:
        fit_times(args.fit_time, args.repeats)
        return
    names = list(args.data) + (["goodbooks"] if args.goodbooks else [])
    for name in names:
        ratings = load(name, args.goodbooks)
        if ratings["user_id"].nunique() < 100:
            print(f"\n### {name}: {len(ratings)} ratings, too few users to measure; skipped")
            continue
        measure(name, ratings)


if __name__ == "__main__":
    main()
