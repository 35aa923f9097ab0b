"""Frequentist statistics for experiments, from sufficient statistics only.

Every function takes per-variant sums (n, mean, variance of the per-user values) and
works element-wise on numpy arrays, so the same code serves one results() call and a
vectorised simulation of thousands of experiments.

- Welch's t-test with Welch-Satterthwaite degrees of freedom (fixed horizon).
- Delta method for ratio metrics (sum a / sum b over users) and for relative lift.
- Asymptotic confidence sequences (Waudby-Smith et al., 2023, the form GrowthBook and
  Eppo use) with tuning N*, and the matching always-valid p-value; valid under
  continuous monitoring, unlike repeated t-tests.
- Sample-ratio-mismatch chi-square, Holm and Benjamini-Hochberg adjustments, CUPED.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

Arr = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sample:
    """Sufficient statistics of one variant: users ``n``, mean and per-user variance
    (``var / n`` is the variance of ``mean``; for ratio metrics the delta-method one)."""

    n: Arr
    mean: Arr
    var: Arr


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control: absolute ``diff`` with its interval, relative ``lift``."""

    diff: Arr
    se: Arr
    ci_low: Arr
    ci_high: Arr
    p_value: Arr
    lift: Arr
    lift_ci_low: Arr
    lift_ci_high: Arr


def _a(x: npt.ArrayLike) -> Arr:
    return np.asarray(x, dtype=np.float64)


def sample_from_sums(n: npt.ArrayLike, s: npt.ArrayLike, ss: npt.ArrayLike) -> Sample:
    """Mean and unbiased variance from n, sum and sum of squares."""
    n, s, ss = _a(n), _a(s), _a(ss)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / n
        var = np.maximum(ss - s * s / n, 0.0) / (n - 1)
    return Sample(n=n, mean=mean, var=var)


def ratio_sample(
    n: npt.ArrayLike,
    sx: npt.ArrayLike,
    sy: npt.ArrayLike,
    sxx: npt.ArrayLike,
    syy: npt.ArrayLike,
    sxy: npt.ArrayLike,
) -> Sample:
    """Ratio of means R = sum x / sum y with its delta-method variance (user = unit)."""
    n, sx, sy, sxx, syy, sxy = (_a(v) for v in (n, sx, sy, sxx, syy, sxy))
    with np.errstate(divide="ignore", invalid="ignore"):
        mx, my = sx / n, sy / n
        vx = (sxx - sx * mx) / (n - 1)
        vy = (syy - sy * my) / (n - 1)
        cxy = (sxy - sx * my) / (n - 1)
        ratio = sx / sy
        var = vx / my**2 - 2 * mx * cxy / my**3 + mx**2 * vy / my**4
    return Sample(n=n, mean=ratio, var=np.maximum(var, 0.0))


def welch_df(c: Sample, t: Sample) -> Arr:
    """Welch-Satterthwaite degrees of freedom."""
    a, b = c.var / c.n, t.var / t.n
    with np.errstate(divide="ignore", invalid="ignore"):
        return _a((a + b) ** 2 / (a**2 / (c.n - 1) + b**2 / (t.n - 1)))


def _lift_var(c: Sample, t: Sample) -> Arr:
    """Delta-method variance of (mean_t / mean_c - 1), independent samples."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _a(t.var / (t.n * c.mean**2) + t.mean**2 * c.var / (c.n * c.mean**4))


def welch_test(c: Sample, t: Sample, alpha: float) -> Comparison:
    """Fixed-horizon two-sided Welch t-test and t intervals for diff and lift."""
    diff = t.mean - c.mean
    se = np.sqrt(c.var / c.n + t.var / t.n)
    df = welch_df(c, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = diff / se
        lift = diff / c.mean
    q = _a(sps.t.ppf(1 - alpha / 2, df))
    p = _a(2 * sps.t.sf(np.abs(tstat), df))
    lift_half = q * np.sqrt(_lift_var(c, t))
    return Comparison(
        diff, se, diff - q * se, diff + q * se, p, lift, lift - lift_half, lift + lift_half
    )


def cs_rho(alpha: float, tuning: float) -> float:
    """Mixing parameter that makes the confidence sequence tightest at N* = tuning."""
    la = -2 * np.log(alpha)
    return float(np.sqrt((la + np.log(la + 1)) / tuning))


def cs_halfwidth(
    var_est: npt.ArrayLike, n_total: npt.ArrayLike, alpha: float, tuning: float
) -> Arr:
    """Half-width of the asymptotic confidence sequence for an estimate whose variance is
    ``var_est`` after ``n_total`` users (both arms): valid at every look simultaneously."""
    v, n = _a(var_est), _a(n_total)
    r2 = cs_rho(alpha, tuning) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        width = 2 * (n * r2 + 1) / (n**2 * r2) * np.log(np.sqrt(n * r2 + 1) / alpha)
        return _a(np.sqrt(v * n) * np.sqrt(width))


def cs_p_value(
    estimate: npt.ArrayLike,
    var_est: npt.ArrayLike,
    n_total: npt.ArrayLike,
    alpha: float,
    tuning: float,
) -> Arr:
    """Always-valid p-value: the smallest level whose confidence sequence (same mixing
    parameter) excludes zero; below ``alpha`` exactly when the interval excludes 0."""
    e, v, n = _a(estimate), _a(var_est), _a(n_total)
    r2 = cs_rho(alpha, tuning) ** 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = np.sqrt(n * r2 + 1) * np.exp(-(e**2) * n * r2 / (2 * v * (n * r2 + 1)))
    return _a(np.minimum(p, 1.0))


def sequential_test(c: Sample, t: Sample, alpha: float, tuning: float) -> Comparison:
    """Two-sided sequential comparison with confidence sequences for diff and lift."""
    diff = t.mean - c.mean
    var_diff = c.var / c.n + t.var / t.n
    n_total = c.n + t.n
    half = cs_halfwidth(var_diff, n_total, alpha, tuning)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = diff / c.mean
    lift_half = cs_halfwidth(_lift_var(c, t), n_total, alpha, tuning)
    p = cs_p_value(diff, var_diff, n_total, alpha, tuning)
    return Comparison(
        diff,
        np.sqrt(var_diff),
        diff - half,
        diff + half,
        p,
        lift,
        lift - lift_half,
        lift + lift_half,
    )


def srm_p_value(observed: npt.ArrayLike, weights: npt.ArrayLike) -> float | None:
    """Chi-square goodness of fit of observed users against the configured split."""
    obs, w = _a(observed), _a(weights)
    total = obs.sum()
    if total <= 0 or len(obs) < 2:
        return None
    expected = total * w / w.sum()
    return float(sps.chisquare(obs, expected).pvalue)


def holm(p: npt.ArrayLike) -> Arr:
    """Holm-Bonferroni step-down adjusted p-values (family-wise error)."""
    pv = _a(p)
    m = len(pv)
    order = np.argsort(pv)
    adj = np.maximum.accumulate((m - np.arange(m)) * pv[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def benjamini_hochberg(p: npt.ArrayLike) -> Arr:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate)."""
    pv = _a(p)
    m = len(pv)
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


@dataclass(frozen=True)
class CovariateSums:
    """Per-variant sums for CUPED: covariate c (pre-period value) and metric x."""

    n: Arr
    x: Arr
    xx: Arr
    c: Arr
    cc: Arr
    xc: Arr


def cuped_samples(s: CovariateSums) -> tuple[list[Sample], float] | None:
    """CUPED-adjusted samples (one per variant) and theta, or None without covariate
    variance. theta = pooled cov(x, c) / var(c); adjusted mean = mean_x - theta *
    (mean_c - pooled mean_c); variance var_x - 2 theta cov + theta^2 var_c."""
    n = s.n.sum()
    if n < 3:
        return None
    var_c = (s.cc.sum() - s.c.sum() ** 2 / n) / (n - 1)
    if not var_c > 1e-12:
        return None
    cov = (s.xc.sum() - s.x.sum() * s.c.sum() / n) / (n - 1)
    theta = cov / var_c
    pooled_c = s.c.sum() / n
    out: list[Sample] = []
    for i in range(len(s.n)):
        ni = s.n[i]
        mx, mc = s.x[i] / ni, s.c[i] / ni
        vx = (s.xx[i] - s.x[i] * mx) / (ni - 1)
        vc = (s.cc[i] - s.c[i] * mc) / (ni - 1)
        cxc = (s.xc[i] - s.x[i] * mc) / (ni - 1)
        var = max(vx - 2 * theta * cxc + theta**2 * vc, 0.0)
        out.append(Sample(_a(ni), _a(mx - theta * (mc - pooled_c)), _a(var)))
    return out, float(theta)
