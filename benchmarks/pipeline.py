"""`gbrec materialize` end to end vs the same core steps called directly, in one process.

    .venv/bin/python benchmarks/pipeline.py            # goodbooks scale (acceptance: <= 1.5x)
    .venv/bin/python benchmarks/pipeline.py --quick    # tiny scale, seconds

Both sides start from the same already-generated data folder and an empty
registry, and do the same work: validate + load ratings, temporal split, the tag
catalogue, fit every model family, evaluate, log/register/propose the best,
build the faiss-hnsw and hnsw shard indices. The Dagster side adds its overhead:
the instance's event log, the IO manager's parquet/model writes and re-reads.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def direct(settings, families: list[str]) -> float:  # type: ignore[no-untyped-def]
    from gbrec_assets.assets.training import family_config
    from gbrec_core import data
    from gbrec_core.evaluation import DEFAULT_KS, evaluate_curve, plot_recall_curve
    from gbrec_core.index import make_index
    from gbrec_core.models import books_with_tags, make_recommender
    from gbrec_core.registry import ModelRegistry

    start = time.perf_counter()
    folder = Path(data.resolve_dataset(settings))
    report = data.validate_ratings(folder / "ratings.csv", books=folder / "books.csv")
    assert report.ok, report.rules_violated()
    ratings = data.load_ratings(folder / "ratings.csv")
    split = data.temporal_split(ratings)
    catalogue = books_with_tags(
        data.load_books(folder / "books.csv"),
        data.load_book_tags(folder / "book_tags.csv"),
        data.load_tags(folder / "tags.csv"),
    )
    ks = tuple(sorted({*DEFAULT_KS, settings.eval_k}))
    best, best_value, best_model, best_plot, fitted = None, -1.0, None, None, {}
    for family in families:
        model = make_recommender(family, **family_config(family, settings)).fit(
            split.train, catalogue
        )
        fitted[family] = model
        curve = evaluate_curve(model, split.train, split.test, ks)
        plot = plot_recall_curve(curve, settings.resolved_home / "plots" / f"{family}.png")
        value = float(curve.loc[settings.eval_k][settings.primary_metric])
        if value > best_value:
            best, best_value, best_model, best_plot = family, value, model, plot
    registry = ModelRegistry(settings)
    metrics = dict(curve.loc[settings.eval_k])
    run_id = registry.log_training_run(
        best_model,
        metrics,
        {"family": best},
        data.fingerprint(ratings).to_dict(),
        plots=[best_plot],
    )
    info = registry.register(run_id)
    registry.propose(info.version)
    vectors = registry.load(info.version).item_vectors or fitted["als"].item_vectors()
    for shard in range(settings.index_shards):
        mask = vectors.book_ids % settings.index_shards == shard
        for kind in ("faiss-hnsw", "hnsw"):
            index = make_index(kind, dim=vectors.vectors.shape[1], metric="ip")
            index.add(vectors.book_ids[mask].astype(np.int64), vectors.vectors[mask])
            index.save(settings.index_dir / info.version / kind / f"shard-{shard}")
    return time.perf_counter() - start


def dagster_side(settings) -> float:  # type: ignore[no-untyped-def]
    import dagster as dg

    from gbrec_assets.runner import materialize_graph

    (settings.resolved_home / "dagster").mkdir(parents=True, exist_ok=True)
    with dg.instance_for_test(temp_dir=str(settings.resolved_home / "dagster")) as instance:
        start = time.perf_counter()
        outcome = materialize_graph(settings, instance)
        elapsed = time.perf_counter() - start
    assert outcome.success, outcome.failed_steps
    return elapsed


def main() -> None:
    from gbrec_assets.assets.training import MODEL_FAMILIES
    from gbrec_core.data import generate
    from gbrec_core.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny scale")
    args = parser.parse_args()
    scale = "tiny" if args.quick else "goodbooks"
    with tempfile.TemporaryDirectory(prefix="gbrec-bench-") as tmp:
        data_dir = generate(scale, Path(tmp) / "data")
        common = {"dataset": str(data_dir), "synthetic_scale": scale}
        t_direct = direct(Settings(home=Path(tmp) / "direct", **common), list(MODEL_FAMILIES))
        t_dagster = dagster_side(Settings(home=Path(tmp) / "dagster", **common))
    print("| scale | core steps direct (s) | gbrec materialize (s) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| {scale} | {t_direct:.1f} | {t_dagster:.1f} | {t_dagster / t_direct:.2f}x |")


if __name__ == "__main__":
    main()
