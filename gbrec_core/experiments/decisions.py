"""Auto-stop, guardrail rollback and the decision hook for champion-vs-challenger tests.

Decisions only use the sequential (always-valid) statistics: stopping when a repeated
fixed-horizon t-test first crosses 0.05 would declare false winners far above alpha.
A guardrail is one-sided: variant regressed when the confidence sequence for the
difference lies entirely on the harmful side. Using the two-sided sequence at level
alpha for that one-sided question keeps the error at most alpha (slightly conservative).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gbrec_core.experiments.analysis import Aggs, guardrail_metrics, metric_samples
from gbrec_core.experiments.metrics import MetricLayout
from gbrec_core.experiments.stats import sequential_test
from gbrec_core.experiments.types import Experiment, ExperimentResults, ExperimentStatus


@dataclass(frozen=True)
class Decision:
    status: ExperimentStatus
    winner: str
    reason: str
    action: Literal["promote", "rollback"] | None


@dataclass(frozen=True)
class DecisionEvent:
    """Passed to the decision hook: ``promote`` the winner's model or ``rollback`` it."""

    experiment: Experiment
    action: Literal["promote", "rollback"]
    variant: str
    model: str
    results: ExperimentResults


DecisionHook = Callable[[DecisionEvent], None]


def guardrail_regressions(exp: Experiment, layout: MetricLayout, aggs: Aggs) -> list[str]:
    """``"metric/variant"`` for each treatment whose guardrail significantly regressed."""
    out: list[str] = []
    for metric in guardrail_metrics(exp):
        better_high = layout.defs[layout.index(metric)].higher_is_better
        samples = metric_samples(layout, aggs, metric, cuped=True).samples
        control = samples[0]
        for v, t in zip(exp.spec.variants[1:], samples[1:], strict=True):
            if min(control.n, t.n) < exp.spec.min_users_per_variant:
                continue
            r = sequential_test(control, t, exp.spec.alpha, exp.spec.sequential_tuning)
            harmful = float(r.ci_high) < 0 if better_high else float(r.ci_low) > 0
            if harmful:
                out.append(f"{metric}/{v.name}")
    return out


def decide(
    exp: Experiment, layout: MetricLayout, aggs: Aggs, results: ExperimentResults
) -> Decision | None:
    """The transition a RUNNING experiment should make now, if any."""
    if exp.status is not ExperimentStatus.RUNNING:
        return None
    control = exp.control.name
    regressed = guardrail_regressions(exp, layout, aggs)
    if regressed:
        return Decision(
            ExperimentStatus.ROLLED_BACK,
            control,
            f"rolled back: guardrail regression in {', '.join(regressed)}",
            "rollback",
        )
    if not (exp.spec.auto_stop and exp.spec.sequential and results.srm_ok):
        return None
    if min(v.users for v in results.variants) < exp.spec.min_users_per_variant:
        return None
    primary = exp.spec.metrics[0]
    better_high = layout.defs[layout.index(primary)].higher_is_better
    sig = [m for m in results.metrics if m.metric == primary and m.significant and m.diff]
    if not sig:
        return None
    sign = 1.0 if better_high else -1.0
    better = [m for m in sig if sign * (m.diff or 0.0) > 0]
    if better:
        best = max(better, key=lambda m: sign * (m.diff or 0.0))
        return Decision(
            ExperimentStatus.CONCLUDED,
            best.variant,
            f"concluded: {best.variant} beats {control} on {primary} "
            f"(lift {best.lift or 0.0:+.2%})",
            "promote",
        )
    return Decision(
        ExperimentStatus.CONCLUDED,
        control,
        f"concluded: {control} beats every treatment on {primary}",
        "rollback",
    )
