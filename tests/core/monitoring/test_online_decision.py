"""The degradation decision: traffic floor, relative threshold and a calibrated test."""

from __future__ import annotations

import math

import numpy as np

from gbrec_core.monitoring import WindowCounts, degradation, drop_p_value


def ctr_window(requests: int, clicked: int) -> WindowCounts:
    return WindowCounts(requests=requests, shown=10 * requests, clicked=clicked, hits=clicked)


def decide(recent: WindowCounts, reference: WindowCounts, **kw: object):  # type: ignore[no-untyped-def]
    args = {"threshold": 0.1, "alpha": 0.01, "min_requests": 1000, **kw}
    return degradation(recent, reference, **args)  # type: ignore[arg-type]


def test_not_enough_traffic_on_either_side() -> None:
    few = decide(ctr_window(999, 10), ctr_window(50_000, 5000))
    assert few.verdict == "not_enough_traffic" and not few.degraded
    assert "999 recent" in few.reason and "need 1000" in few.reason
    assert decide(ctr_window(50_000, 10), ctr_window(10, 5)).verdict == "not_enough_traffic"


def test_no_feedback_in_the_reference_says_so() -> None:
    silent = decide(ctr_window(5000, 0), ctr_window(5000, 0))
    assert silent.verdict == "no_feedback" and "requestId" in silent.reason


def test_no_drop_when_stable_better_or_within_the_threshold() -> None:
    assert decide(ctr_window(20_000, 2000), ctr_window(20_000, 2000)).verdict == "no_drop"
    assert decide(ctr_window(20_000, 2400), ctr_window(20_000, 2000)).verdict == "no_drop"
    # 8% lower: highly significant at this traffic, but under the 10% threshold
    small = decide(ctr_window(200_000, 18_400), ctr_window(200_000, 20_000))
    assert small.verdict == "no_drop" and small.p_value is not None and small.p_value < 1e-6


def test_a_large_drop_on_little_traffic_is_not_significant() -> None:
    noisy = decide(ctr_window(1000, 16), ctr_window(1000, 20))  # 20% lower, 4 clicks apart
    assert noisy.verdict == "not_significant"
    assert noisy.relative_drop is not None and math.isclose(noisy.relative_drop, 0.2)
    assert "not significant" in noisy.reason


def test_a_large_significant_drop_is_degraded() -> None:
    bad = decide(ctr_window(5000, 300), ctr_window(20_000, 2000))  # 6% vs 10%
    assert bad.degraded and bad.recent_value == 0.06 and bad.reference_value == 0.1
    assert bad.p_value is not None and bad.p_value < 1e-9


def test_ctr_p_value_is_the_one_sided_two_proportion_z_test() -> None:
    recent, reference = ctr_window(4000, 360), ctr_window(6000, 600)
    p1, p0 = 360 / 4000, 600 / 6000
    # unbiased per-request variances, as the Welch/z statistic uses
    v1, v0 = p1 * (1 - p1) * 4000 / 3999, p0 * (1 - p0) * 6000 / 5999
    z = (p1 - p0) / math.sqrt(v1 / 4000 + v0 / 6000)
    expected = 0.5 * math.erfc(-z / math.sqrt(2))
    assert math.isclose(drop_p_value(recent, reference, "ctr"), expected, rel_tol=1e-9)


def test_precision_uses_the_request_as_the_unit() -> None:
    rng = np.random.default_rng(3)

    def window(rate: float, n: int) -> tuple[WindowCounts, np.ndarray, np.ndarray]:
        shown = rng.integers(5, 15, n)
        # clicks within a request are correlated: a per-request propensity
        hits = rng.binomial(shown, np.clip(rng.beta(1, 1 / rate - 1, n), 0, 1))
        counts = WindowCounts(
            requests=n,
            shown=int(shown.sum()),
            shown_sq=int((shown**2).sum()),
            clicked=int((hits > 0).sum()),
            hits=int(hits.sum()),
            hits_sq=int((hits**2).sum()),
            hits_shown=int((hits * shown).sum()),
        )
        return counts, hits, shown

    recent, h1, s1 = window(0.05, 3000)
    reference, _, _ = window(0.08, 3000)
    sample = recent.sample("precision")
    assert math.isclose(float(sample.mean), h1.sum() / s1.sum())
    # delta method by hand: var(h - R s) / mean(s)^2, per request
    ratio = h1.sum() / s1.sum()
    by_hand = np.var(h1 - ratio * s1, ddof=1) / s1.mean() ** 2
    assert math.isclose(float(sample.var), by_hand, rel_tol=1e-6)
    verdict = decide(recent, reference, metric="precision")
    assert verdict.degraded and verdict.metric == "precision"


def test_false_alarm_rate_under_no_change_is_about_alpha() -> None:
    rng = np.random.default_rng(11)
    alpha, runs, n = 0.05, 3000, 2000
    recent = rng.binomial(n, 0.1, runs)
    reference = rng.binomial(n, 0.1, runs)
    alarms = sum(
        decide(ctr_window(n, int(a)), ctr_window(n, int(b)), threshold=0.0, alpha=alpha).degraded
        for a, b in zip(recent, reference, strict=True)
    )
    assert 0.035 <= alarms / runs <= 0.065
