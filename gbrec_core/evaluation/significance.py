"""Is the best family really better? Paired tests over the same test users.

Every family is ranked for the same test users, so its per-user metric (NDCG@k by
default) pairs with the best family's: ``d_u = other_u - best_u``. For each other
family :func:`paired_test` reports

- ``delta``: the mean of ``d`` (negative: worse than the best family);
- ``ci_low``/``ci_high``: a 95% paired bootstrap interval of that mean (users
  resampled with replacement, seeded, so the numbers are reproducible);
- ``t_stat``/``p_value``: the two-sided paired t-test (``scipy.stats.ttest_rel``);
- ``p_holm``: the p-values Holm-adjusted over the comparisons made, because the best
  family is compared with every other one.

Degenerate cases do not raise: with fewer than two users nothing can be tested (NaN
statistics); when every ``d_u`` is equal (to 1e-12) the t statistic is undefined, so it is set
to 0 with p = 1 when the families tie on every user and to +/-inf with p = 0 when one
is better by the same amount for every user.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError

RESAMPLES = 2000
CONFIDENCE = 0.95
#: Resampled values held in memory at once by the bootstrap.
_BOOTSTRAP_CELLS = 2_000_000
#: Differences closer than this count as equal (per-user metrics are sums of floats).
_EQUAL = 1e-12
COMPARISON_COLUMNS = ("delta", "ci_low", "ci_high", "t_stat", "p_value", "p_holm")


@dataclasses.dataclass(frozen=True)
class PairedTest:
    """``values`` against ``reference`` over the same users (see the module docstring)."""

    n_users: int
    delta: float
    ci_low: float
    ci_high: float
    t_stat: float
    p_value: float


def paired_test(
    values: np.ndarray, reference: np.ndarray, *, resamples: int = RESAMPLES, seed: int = 0
) -> PairedTest:
    """Paired t-test and bootstrap CI of ``mean(values - reference)``."""
    values, reference = np.asarray(values, float), np.asarray(reference, float)
    if values.shape != reference.shape or values.ndim != 1:
        raise InvalidInputError(
            f"paired values need equal 1-d shapes, got {values.shape} and {reference.shape}"
        )
    diff = values - reference
    n = int(diff.shape[0])
    if n < 2:
        mean = float(diff.mean()) if n else math.nan
        return PairedTest(n, mean, math.nan, math.nan, math.nan, math.nan)
    low, high = bootstrap_interval(diff, resamples=resamples, seed=seed)
    t_stat, p_value = _t_test(diff)
    return PairedTest(n, float(diff.mean()), low, high, t_stat, p_value)


def _t_test(diff: np.ndarray) -> tuple[float, float]:
    # Equal up to rounding (0.3 - 0.1 vs 0.4 - 0.2): no spread to test against.
    if np.allclose(diff, diff[0], rtol=0.0, atol=_EQUAL):
        mean = float(diff.mean())
        return (0.0, 1.0) if abs(mean) <= _EQUAL else (math.copysign(math.inf, mean), 0.0)
    from scipy import stats

    result = stats.ttest_rel(diff, np.zeros_like(diff))
    return float(result.statistic), float(result.pvalue)


def bootstrap_interval(
    diff: np.ndarray, *, resamples: int = RESAMPLES, seed: int = 0, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diff`` (users resampled)."""
    rng = np.random.default_rng(seed)
    n = diff.shape[0]
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    means = np.concatenate(
        [
            diff[rng.integers(0, n, size=(min(chunk, resamples - start), n))].mean(axis=1)
            for start in range(0, resamples, chunk)
        ]
    )
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (NaN stays NaN and does not count as a test)."""
    p = np.asarray(p_values, dtype=float)
    tested = np.flatnonzero(np.isfinite(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.shape[0]
    adjusted = np.full(p.shape, math.nan)
    running = 0.0
    for rank, index in enumerate(order.tolist()):
        running = max(running, min(1.0, (m - rank) * float(p[index])))
        adjusted[index] = running
    return [float(v) for v in adjusted]


def compare_to_best(
    per_user: Mapping[str, np.ndarray], best: str, *, resamples: int = RESAMPLES, seed: int = 0
) -> pd.DataFrame:
    """One row per family (index ``model``) with :data:`COMPARISON_COLUMNS` against
    ``best``; the best family's own row is NaN."""
    if best not in per_user:
        raise InvalidInputError(f"no per-user values for the best family {best!r}")
    others = [f for f in per_user if f != best]
    tests = {
        f: paired_test(per_user[f], per_user[best], resamples=resamples, seed=seed) for f in others
    }
    frame = pd.DataFrame(
        [dataclasses.asdict(t) for t in tests.values()], index=pd.Index(others, name="model")
    ).drop(columns=["n_users"], errors="ignore")
    frame["p_holm"] = holm(frame["p_value"].tolist()) if others else []
    nan_row = pd.DataFrame([dict.fromkeys(COMPARISON_COLUMNS, math.nan)], index=[best])
    return pd.concat([nan_row, frame])[list(COMPARISON_COLUMNS)].rename_axis("model")


def selection_record(table: pd.DataFrame, metric: str, k: int, n_users: int) -> str:
    """One sentence for a decision record: the best family (row 0 of ``table``), its
    runner-up and, when different, popularity, with the paired evidence."""
    best = table.iloc[0]
    text = f"{best['model']} chosen on {metric}@{k} = {float(best[metric]):.4g}"
    if len(table) < 2:
        return f"{text} (no other family to compare)"
    runner = table.iloc[1]
    text += f"; runner-up {runner['model']} {float(runner[metric]):.4g} ({_evidence(runner)}"
    text += f", {n_users} users)"
    popular = popularity_row(table)
    if popular is not None:
        text += f"; vs popularity: {_evidence(popular)}"
    return text


def popularity_row(table: pd.DataFrame) -> pd.Series | None:
    """Popularity's row of a ranked ``table`` when it is neither the best family nor the
    runner-up (those two are reported anyway)."""
    rest = table.iloc[2:]
    popular = rest[rest["model"] == "popularity"]
    return None if popular.empty else popular.iloc[0]


def _evidence(row: pd.Series) -> str:
    return (
        f"difference {float(row['delta']):+.4g} per user, 95% CI "
        f"[{float(row['ci_low']):+.4g}, {float(row['ci_high']):+.4g}], "
        f"paired t-test {_p_text(float(row['p_value']))}"
    )


def _p_text(p_value: float) -> str:
    # scipy's t distribution underflows to exactly 0 for huge |t| (thousands of users).
    return "p < 1e-300" if p_value == 0.0 else f"p = {p_value:.2g}"
