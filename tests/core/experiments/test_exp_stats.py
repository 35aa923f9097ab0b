"""Statistics against independent scipy/numpy computations on fixed data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from gbrec_core.experiments import stats

ALPHA = 0.05


def _sample(x: np.ndarray) -> stats.Sample:
    return stats.sample_from_sums(len(x), x.sum(), (x * x).sum())


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240501)
    return rng.normal(3.0, 1.0, 400), rng.normal(3.25, 1.6, 650)


def test_welch_matches_scipy(data: tuple[np.ndarray, np.ndarray]) -> None:
    c, t = data
    r = stats.welch_test(_sample(c), _sample(t), ALPHA)
    ref = sps.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(1 - ALPHA)
    assert float(r.p_value) == pytest.approx(ref.pvalue, rel=1e-9)
    assert float(r.ci_low) == pytest.approx(ci.low, rel=1e-9)
    assert float(r.ci_high) == pytest.approx(ci.high, rel=1e-9)
    assert float(r.diff) == pytest.approx(t.mean() - c.mean())
    vc, vt = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    df = (vc + vt) ** 2 / (vc**2 / (len(c) - 1) + vt**2 / (len(t) - 1))
    assert float(stats.welch_df(_sample(c), _sample(t))) == pytest.approx(df)
    assert float(r.lift) == pytest.approx(t.mean() / c.mean() - 1)


def test_ratio_delta_method_matches_simulation() -> None:
    """Delta-method variance of sum(x)/sum(y) vs the spread over 3,000 replications."""
    rng = np.random.default_rng(7)
    reps, n = 3000, 500
    y = rng.poisson(8, (reps, n)).astype(float)  # impressions per user
    x = rng.binomial(y.astype(int), 0.12).astype(float)  # clicks per user
    s = stats.ratio_sample(n, x.sum(1), y.sum(1), (x * x).sum(1), (y * y).sum(1), (x * y).sum(1))
    assert np.allclose(s.mean, x.sum(1) / y.sum(1))
    empirical = np.var(s.mean, ddof=1)
    assert np.median(s.var / n) == pytest.approx(empirical, rel=0.1)
    # and the formula itself, written independently with np.cov for one replication
    cov = np.cov(x[0], y[0])
    mx, my = x[0].mean(), y[0].mean()
    want = (cov[0, 0] / my**2 - 2 * mx * cov[0, 1] / my**3 + mx**2 * cov[1, 1] / my**4) / n
    assert float(s.var[0] / n) == pytest.approx(want, rel=1e-9)


def test_sequential_interval_is_wider_contains_estimate_and_matches_p(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    c, t = data
    fixed = stats.welch_test(_sample(c), _sample(t), ALPHA)
    seq = stats.sequential_test(_sample(c), _sample(t), ALPHA, tuning=5000)
    assert seq.ci_low < fixed.ci_low and seq.ci_high > fixed.ci_high
    assert seq.ci_low < seq.diff < seq.ci_high
    # p < alpha exactly when the confidence sequence excludes zero
    rng = np.random.default_rng(3)
    for shift in np.linspace(0, 0.5, 26):
        b = rng.normal(3 + shift, 1, 500)
        r = stats.sequential_test(_sample(c), _sample(b), ALPHA, tuning=5000)
        excludes = r.ci_low > 0 or r.ci_high < 0
        assert (float(r.p_value) < ALPHA) == bool(excludes)


def test_confidence_sequence_formula() -> None:
    """Waudby-Smith et al. asymptotic CS, written out independently."""
    alpha, tuning, n, var = 0.05, 2000.0, 5000.0, 4e-4
    rho = np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning)
    half = np.sqrt(var * n) * np.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * np.log(np.sqrt(n * rho**2 + 1) / alpha)
    )
    assert float(stats.cs_halfwidth(var, n, alpha, tuning)) == pytest.approx(half)


def _looks(
    rng: np.random.Generator, experiments: int, looks: int, per_look: int
) -> tuple[stats.Sample, stats.Sample]:
    """Cumulative sufficient statistics at each look of many A/A experiments."""

    def arm() -> stats.Sample:
        x = rng.normal(0.0, 1.0, (experiments, looks, per_look))
        s, ss = np.cumsum(x.sum(2), 1), np.cumsum((x * x).sum(2), 1)
        n = np.broadcast_to(per_look * np.arange(1, looks + 1), s.shape)
        return stats.sample_from_sums(n, s, ss)

    return arm(), arm()


def test_aa_simulation_sequential_controls_false_positives_peeking_does_not() -> None:
    rng = np.random.default_rng(11)
    experiments, looks = 1000, 20
    c, t = _looks(rng, experiments, looks, per_look=100)
    naive = stats.welch_test(c, t, ALPHA).p_value < ALPHA
    seq = stats.sequential_test(c, t, ALPHA, tuning=2000).p_value < ALPHA
    naive_fpr = naive.any(axis=1).mean()
    seq_fpr = seq.any(axis=1).mean()
    final_look_fpr = naive[:, -1].mean()
    assert seq_fpr <= ALPHA
    assert naive_fpr > 2 * ALPHA  # peeking 20 times inflates the error well above alpha
    assert abs(final_look_fpr - ALPHA) < 0.025  # a single fixed-horizon test is calibrated


def test_srm_chi_square() -> None:
    p = stats.srm_p_value([5200, 4800], [0.5, 0.5])
    assert p == pytest.approx(sps.chisquare([5200, 4800]).pvalue)
    assert p is not None and p < 0.001
    balanced = stats.srm_p_value([5020, 4980], [0.5, 0.5])
    assert balanced is not None and balanced > 0.001
    weighted = stats.srm_p_value([300, 700], [0.3, 0.7])
    assert weighted == pytest.approx(sps.chisquare([300, 700], [300, 700]).pvalue)


def test_multiple_testing_adjustments() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    assert np.allclose(stats.benjamini_hochberg(p), sps.false_discovery_control(p))
    order = np.argsort(p)
    m = len(p)
    holm = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        holm[i] = running
    assert np.allclose(stats.holm(p), holm)


def test_cuped_reduces_variance_and_matches_regression_adjustment() -> None:
    rng = np.random.default_rng(5)
    n = 4000
    cov = rng.normal(10, 3, 2 * n)
    y = 0.8 * cov + rng.normal(0, 1, 2 * n)
    y[n:] += 0.1
    arms = [slice(0, n), slice(n, 2 * n)]
    sums = stats.CovariateSums(
        n=np.array([n, n], float),
        x=np.array([y[a].sum() for a in arms]),
        xx=np.array([(y[a] ** 2).sum() for a in arms]),
        c=np.array([cov[a].sum() for a in arms]),
        cc=np.array([(cov[a] ** 2).sum() for a in arms]),
        xc=np.array([(y[a] * cov[a]).sum() for a in arms]),
    )
    adjusted = stats.cuped_samples(sums)
    assert adjusted is not None
    samples, theta = adjusted
    assert theta == pytest.approx(np.cov(y, cov)[0, 1] / cov.var(ddof=1))
    y_adj = y - theta * (cov - cov.mean())
    for s, a in zip(samples, arms, strict=True):
        assert float(s.mean) == pytest.approx(y_adj[a].mean())
        assert float(s.var) == pytest.approx(y_adj[a].var(ddof=1), rel=1e-9)
        assert float(s.var) < y[a].var(ddof=1) / 3
