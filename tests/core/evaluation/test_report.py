"""evaluate_models: one ranking per family, every table consistent with evaluate()."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.data import temporal_split
from gbrec_core.data.splits import RatingSplit
from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation import evaluate, evaluate_models, plot_deltas, plot_segments
from gbrec_core.evaluation.render import html_report, markdown_tables
from gbrec_core.models import Recommender, make_recommender

from ..skewed_ratings import skewed_ratings

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def split() -> RatingSplit:
    return temporal_split(skewed_ratings(11, users=80, books=100, rows=2500))


@pytest.fixture(scope="module")
def models(split: RatingSplit) -> dict[str, Recommender]:
    train = split.train
    return {
        "popularity": make_recommender("popularity").fit(train),
        "ease": make_recommender("ease").fit(train),
        "als": make_recommender("als", factors=8, iterations=3).fit(train),
    }


def test_table_agrees_with_evaluate_and_is_sorted_by_the_primary_metric(
    split: RatingSplit, models: dict[str, Recommender]
) -> None:
    train, test = split.train, split.test
    report = evaluate_models(models, train, test, ks=(5, 10), k=5, resamples=200)
    table = report.table.set_index("model")
    for family, model in models.items():
        expected = evaluate(model, train, test, k=5)
        for metric, value in expected.items():
            assert table.loc[family, metric] == pytest.approx(value), (family, metric)
    assert report.table["ndcg"].is_monotonic_decreasing
    assert report.best == report.table.iloc[0]["model"]
    assert math.isnan(report.table.iloc[0]["p_value"])
    assert report.table.iloc[1:]["p_value"].between(0, 1).all()
    assert (report.table["users"] == test["user_id"].nunique()).all()
    assert set(report.curves) == set(models) and list(report.curves["als"].index) == [5, 10]
    assert report.selection.startswith(f"{report.best} chosen on ndcg@5")


def test_segments_partition_the_users_and_add_new_users(
    split: RatingSplit, models: dict[str, Recommender]
) -> None:
    train, test = split.train, split.test
    report = evaluate_models(models, train, test, k=10, resamples=100)
    segments = report.segments
    for family in models:
        rows = segments[segments["model"] == family].set_index("segment")
        overall = rows.loc["all users"]
        assert overall["ndcg"] == pytest.approx(report.table.set_index("model").loc[family, "ndcg"])
        quartiles = rows[rows.index.str.startswith("Q")]
        assert quartiles["users"].sum() == overall["users"] == report.n_users
        weighted = (quartiles["ndcg"] * quartiles["users"]).sum() / quartiles["users"].sum()
        assert weighted == pytest.approx(overall["ndcg"])
        assert rows.index[-1] == "new users (5 seed books)" and rows.iloc[-1]["users"] > 0
    assert set(report.holdout) == {"novelty", "ild", "arp", "head_share", "tagged"}


def test_rendered_tables_plots_and_page(
    split: RatingSplit, models: dict[str, Recommender], tmp_path: Path
) -> None:
    train, test = split.train, split.test
    report = evaluate_models(models, train, test, k=10, resamples=100)
    tables = markdown_tables(report)
    assert list(tables) == ["metrics", "beyond_accuracy", "segments", "significance"]
    assert all("nan" not in md for md in tables.values())  # NaN is an empty cell
    assert "holdout (what users read next)" in tables["beyond_accuracy"]
    assert "| p_value |" in tables["significance"].replace("  ", " ").replace("  ", " ")
    segments = plot_segments(report.segments, "ndcg", 10, tmp_path / "s.png")
    deltas = plot_deltas(report.table, "ndcg", 10, tmp_path / "d.png")
    assert segments.read_bytes()[:8] == PNG and deltas.read_bytes()[:8] == PNG
    page = html_report(report, {"segments": segments})
    assert page.count("<table") == 4 and "data:image/png;base64," in page


def test_one_family_and_bad_arguments(split: RatingSplit, models: dict[str, Recommender]) -> None:
    train, test = split.train, split.test
    alone = evaluate_models({"ease": models["ease"]}, train, test, k=10)
    assert alone.selection.endswith("(no other family to compare)")
    assert np.isnan(alone.table.iloc[0]["delta"])
    unfitted = {"popularity": make_recommender("popularity")}  # never ranked: refused first
    with pytest.raises(InvalidInputError, match="unknown primary metric"):
        evaluate_models(unfitted, train, test, primary="bogus")
    with pytest.raises(InvalidInputError, match="no model"):
        evaluate_models({}, train, test)
    coverage = evaluate_models(models, train, test, primary="coverage", resamples=50)
    assert coverage.paired_metric == "ndcg" and coverage.table["coverage"].is_monotonic_decreasing
