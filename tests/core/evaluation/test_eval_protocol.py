"""evaluate / evaluate_curve / plot_recall_curve on a case small enough to check by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation import evaluate, evaluate_curve, plot_recall_curve
from gbrec_core.models import make_recommender

TRAIN = pd.DataFrame(
    {"user_id": [1, 1, 2, 2, 3, 4], "book_id": [1, 2, 1, 3, 1, 2], "rating": [5, 4, 4, 5, 3, 4]}
)
# Book 4 is unknown to the model: it counts as relevant but can never be hit.
TEST = pd.DataFrame({"user_id": [1, 2, 2, 3], "book_id": [3, 2, 4, 2], "rating": [5, 4, 5, 4]})


def test_popularity_by_hand() -> None:
    # Popularity order 1 > 2 > 3; seen books excluded: u1 -> [3], u2 -> [2], u3 -> [2, 3].
    model = make_recommender("popularity").fit(TRAIN)
    got = evaluate(model, TRAIN, TEST, k=2)
    ndcg_u2 = 1 / (1 + 1 / math.log2(3))
    assert got["precision"] == pytest.approx(0.5)
    assert got["recall"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert got["ndcg"] == pytest.approx((1 + ndcg_u2 + 1) / 3)
    assert got["map"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert got["hit_rate"] == pytest.approx(1.0)
    assert got["coverage"] == pytest.approx(2 / 3)


def test_curve_and_plot(tmp_path: Path) -> None:
    model = make_recommender("popularity").fit(TRAIN)
    curve = evaluate_curve(model, TRAIN, TEST, ks=(1, 2, 3))
    assert list(curve.index) == [1, 2, 3]
    assert set(curve.columns) == {"precision", "recall", "ndcg", "map", "hit_rate", "coverage"}
    assert curve["recall"].is_monotonic_increasing
    image = plot_recall_curve(curve, tmp_path / "plots" / "recall.png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_must_be_fitted_on_train() -> None:
    model = make_recommender("popularity").fit(TRAIN.iloc[:4])
    with pytest.raises(InvalidInputError, match="same training split"):
        evaluate(model, TRAIN, TEST)
