"""Paired t-test, bootstrap interval and Holm adjustment; degenerate inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation.significance import (
    bootstrap_interval,
    compare_to_best,
    holm,
    paired_test,
    selection_record,
)


def test_t_statistic_by_hand() -> None:
    best = np.array([0.5, 0.4, 0.6, 0.3])
    other = np.array([0.4, 0.4, 0.3, 0.2])
    diff = other - best  # -0.1, 0, -0.3, -0.1: mean -0.125, sample sd 0.125830...
    got = paired_test(other, best, resamples=500)
    sd = math.sqrt(sum((d + 0.125) ** 2 for d in (-0.1, 0.0, -0.3, -0.1)) / 3)
    assert got.n_users == 4 and got.delta == pytest.approx(diff.mean())
    assert got.t_stat == pytest.approx(-0.125 / (sd / 2))
    assert got.p_value == pytest.approx(float(stats.ttest_rel(other, best).pvalue))


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    diff = rng.normal(0.02, 0.1, 400)
    low, high = bootstrap_interval(diff, resamples=1000, seed=1)
    assert low < diff.mean() < high
    # The normal-theory 95% interval has about the same width.
    assert high - low == pytest.approx(2 * 1.96 * diff.std(ddof=1) / 20, rel=0.15)
    assert bootstrap_interval(diff, resamples=1000, seed=1) == (low, high)


def test_degenerate_inputs_do_not_raise() -> None:
    same = paired_test(np.array([0.2, 0.3, 0.1]), np.array([0.2, 0.3, 0.1]))
    assert (same.delta, same.t_stat, same.p_value) == (0.0, 0.0, 1.0)
    assert (same.ci_low, same.ci_high) == (0.0, 0.0)
    shifted = paired_test(np.array([0.3, 0.4]), np.array([0.1, 0.2]))
    assert shifted.t_stat == math.inf and shifted.p_value == 0.0
    one = paired_test(np.array([0.3]), np.array([0.1]))
    assert one.n_users == 1 and one.delta == pytest.approx(0.2) and math.isnan(one.p_value)
    none = paired_test(np.array([]), np.array([]))
    assert none.n_users == 0 and math.isnan(none.delta)
    with pytest.raises(InvalidInputError, match="equal 1-d shapes"):
        paired_test(np.array([0.1, 0.2]), np.array([0.1]))


def test_holm_by_hand() -> None:
    # Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04), max(0.04, 0.04).
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    got = holm([0.5, math.nan, 0.2])  # NaN is not a test: m = 2
    assert got[0] == pytest.approx(0.5) and math.isnan(got[1]) and got[2] == pytest.approx(0.4)
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_compare_to_best_and_the_decision_sentence() -> None:
    rng = np.random.default_rng(0)
    best = rng.random(200)
    per_user = {"popularity": best - 0.2, "hybrid": best, "ease": best - rng.normal(0, 0.05, 200)}
    frame = compare_to_best(per_user, "hybrid", resamples=300)
    assert list(frame.index) == ["hybrid", "popularity", "ease"]
    assert frame.loc["hybrid"].isna().all()
    assert frame.loc["popularity", "delta"] == pytest.approx(-0.2)
    assert frame.loc["popularity", "p_value"] == 0.0  # the same gap for every user
    assert frame.loc["ease", "p_holm"] >= frame.loc["ease", "p_value"]
    table = pd.DataFrame(
        {"model": ["hybrid", "ease", "popularity"], "ndcg": [0.3, 0.29, 0.1]}
    ).join(frame, on="model")
    text = selection_record(table, "ndcg", 10, 200)
    assert text.startswith("hybrid chosen on ndcg@10 = 0.3; runner-up ease 0.29")
    assert f"paired t-test p = {frame.loc['ease', 'p_value']:.2g}" in text
    assert "200 users" in text and "vs popularity: difference -0.2 per user" in text
    assert text.endswith("paired t-test p < 1e-300")  # the p-value of 0.0
    with pytest.raises(InvalidInputError, match="best family"):
        compare_to_best(per_user, "als")
