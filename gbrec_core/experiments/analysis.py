"""From the variants' running sums to :class:`ExperimentResults` (no raw-event scan)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from gbrec_core.experiments import stats
from gbrec_core.experiments.metrics import Kind, MetricLayout
from gbrec_core.experiments.types import Experiment, ExperimentResults, MetricResult, VariantStats

SRM_THRESHOLD = 0.001
Aggs = list[dict[str, float]]


@dataclass(frozen=True)
class MetricSamples:
    samples: list[stats.Sample]
    cuped: bool


def _col(aggs: Aggs, field: str) -> np.ndarray:
    return np.array([a.get(field, 0.0) for a in aggs], dtype=np.float64)


def metric_samples(layout: MetricLayout, aggs: Aggs, metric: str, *, cuped: bool) -> MetricSamples:
    """One :class:`stats.Sample` per variant for ``metric`` (CUPED-adjusted if possible)."""
    k = layout.index(metric)
    kind = layout.defs[k].kind
    p = f"m{k}:"
    users = _col(aggs, "users")
    if kind is Kind.RATIO:
        s = stats.ratio_sample(
            users,
            _col(aggs, p + "x"),
            _col(aggs, p + "y"),
            _col(aggs, p + "xx"),
            _col(aggs, p + "yy"),
            _col(aggs, p + "xy"),
        )
        return MetricSamples(_split(s), cuped=False)
    if kind is Kind.MEAN:
        n, c, cc = _col(aggs, p + "n"), _col(aggs, p + "c"), _col(aggs, p + "cc")
    else:
        n, c, cc = users, _col(aggs, "c"), _col(aggs, "cc")
    x, xx = _col(aggs, p + "x"), _col(aggs, p + "xx")
    if cuped and (n >= 2).all():
        adjusted = stats.cuped_samples(stats.CovariateSums(n, x, xx, c, cc, _col(aggs, p + "xc")))
        if adjusted is not None:
            return MetricSamples(adjusted[0], cuped=True)
    return MetricSamples(_split(stats.sample_from_sums(n, x, xx)), cuped=False)


def _split(s: stats.Sample) -> list[stats.Sample]:
    return [stats.Sample(s.n[i], s.mean[i], s.var[i]) for i in range(len(s.n))]


def compare(
    exp: Experiment, c: stats.Sample, t: stats.Sample, *, sequential: bool
) -> stats.Comparison:
    if sequential:
        return stats.sequential_test(c, t, exp.spec.alpha, exp.spec.sequential_tuning)
    return stats.welch_test(c, t, exp.spec.alpha)


def _f(x: np.ndarray) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


def _metric_rows(
    exp: Experiment, layout: MetricLayout, aggs: Aggs, metric: str, cuped: bool
) -> list[MetricResult]:
    ms = metric_samples(layout, aggs, metric, cuped=cuped)
    control = ms.samples[0]
    rows = [
        MetricResult(
            metric,
            exp.spec.variants[0].name,
            _f(control.mean) or 0.0,
            int(control.n),
            cuped=ms.cuped,
        )
    ]
    for v, t in zip(exp.spec.variants[1:], ms.samples[1:], strict=True):
        mean = _f(t.mean) or 0.0
        if control.n < 2 or t.n < 2:
            rows.append(MetricResult(metric, v.name, mean, int(t.n), cuped=ms.cuped))
            continue
        r = compare(exp, control, t, sequential=exp.spec.sequential)
        rows.append(
            MetricResult(
                metric=metric,
                variant=v.name,
                mean=mean,
                users=int(t.n),
                diff=_f(r.diff),
                lift=_f(r.lift),
                ci_low=_f(r.ci_low),
                ci_high=_f(r.ci_high),
                lift_ci_low=_f(r.lift_ci_low),
                lift_ci_high=_f(r.lift_ci_high),
                p_value=_f(r.p_value),
                cuped=ms.cuped,
            )
        )
    return rows


def _adjust(exp: Experiment, rows: list[MetricResult]) -> list[MetricResult]:
    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    if not tested:
        return rows
    p = np.array([rows[i].p_value for i in tested], dtype=np.float64)
    if exp.spec.correction == "holm":
        adj = stats.holm(p)
    elif exp.spec.correction == "bh":
        adj = stats.benjamini_hochberg(p)
    else:
        adj = p
    out = list(rows)
    for i, a in zip(tested, adj, strict=True):
        r = rows[i]
        out[i] = MetricResult(
            **{**r.__dict__, "adjusted_p_value": float(a), "significant": bool(a < exp.spec.alpha)}
        )
    return out


def reported_metrics(exp: Experiment) -> list[str]:
    return list(dict.fromkeys([*exp.spec.metrics, *guardrail_metrics(exp)]))


def guardrail_metrics(exp: Experiment) -> tuple[str, ...]:
    from gbrec_core.experiments.types import Strategy

    if exp.spec.guardrails:
        return exp.spec.guardrails
    return exp.spec.metrics if exp.spec.strategy is Strategy.STAGED else ()


def compute_results(
    exp: Experiment, layout: MetricLayout, aggs: Aggs, *, cuped: bool = True
) -> ExperimentResults:
    """Per-variant counts, SRM check and every reported metric x treatment comparison."""
    users = _col(aggs, "users")
    srm = stats.srm_p_value(users, exp.weights)
    rows: list[MetricResult] = []
    for metric in reported_metrics(exp):
        rows += _metric_rows(exp, layout, aggs, metric, cuped)
    return ExperimentResults(
        experiment_id=exp.id,
        status=exp.status,
        srm_p_value=srm,
        srm_ok=srm is None or srm >= SRM_THRESHOLD,
        variants=[
            VariantStats(v.name, int(a.get("users", 0)), int(a.get("exposures", 0)))
            for v, a in zip(exp.spec.variants, aggs, strict=True)
        ],
        metrics=_adjust(exp, rows),
        decision=exp.decision,
        winner=exp.winner,
        sequential=exp.spec.sequential,
        computed_at=datetime.now(UTC),
    )
