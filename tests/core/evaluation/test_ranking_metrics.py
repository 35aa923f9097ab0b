"""Metric functions against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation import coverage, hit_matrix, per_user_metrics, ranking_metrics


def test_two_users_by_hand() -> None:
    hits = np.array([[1, 0, 1], [0, 1, 0]], dtype=bool)
    got = per_user_metrics(hits, np.array([2, 5]), k=3)
    d = [1 / math.log2(i + 1) for i in (1, 2, 3)]
    np.testing.assert_allclose(got["precision"], [2 / 3, 1 / 3])
    np.testing.assert_allclose(got["recall"], [1.0, 1 / 5])
    np.testing.assert_allclose(got["ndcg"], [(d[0] + d[2]) / (d[0] + d[1]), d[1] / sum(d)])
    np.testing.assert_allclose(got["map"], [(1 / 1 + 2 / 3) / 2, (1 / 2) / 3])
    np.testing.assert_allclose(got["hit_rate"], [1.0, 1.0])


def test_prefix_k_and_misses() -> None:
    hits = np.array([[0, 0, 1], [0, 0, 0]], dtype=bool)
    at1 = ranking_metrics(hits, np.array([1, 3]), k=1)
    assert at1 == {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "map": 0.0, "hit_rate": 0.0}
    at3 = ranking_metrics(hits, np.array([1, 3]), k=3)
    assert at3["hit_rate"] == pytest.approx(0.5)
    assert at3["ndcg"] == pytest.approx((1 / math.log2(4)) / 1 / 2)
    assert at3["map"] == pytest.approx((1 / 3) / 1 / 2)


def test_perfect_ranking_scores_one() -> None:
    hits = np.ones((4, 5), dtype=bool)
    got = ranking_metrics(hits, np.array([5, 5, 7, 9]), k=5)
    assert got["ndcg"] == pytest.approx(1.0) and got["map"] == pytest.approx(1.0)
    assert got["precision"] == pytest.approx(1.0)


def test_hit_matrix_ignores_padding_and_other_users() -> None:
    recommended = np.array([[5, 7, -1], [7, 5, 9]])
    hits = hit_matrix(recommended, relevant_rows=np.array([0, 1]), relevant_items=np.array([7, 9]))
    np.testing.assert_array_equal(hits, [[False, True, False], [False, False, True]])


def test_coverage() -> None:
    assert coverage(np.array([[1, 2, -1], [2, 3, -1]]), catalogue_size=6) == pytest.approx(0.5)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInputError):
        per_user_metrics(np.zeros((1, 3), dtype=bool), np.array([0]), k=3)
    with pytest.raises(InvalidInputError):
        per_user_metrics(np.zeros((1, 3), dtype=bool), np.array([1]), k=4)
