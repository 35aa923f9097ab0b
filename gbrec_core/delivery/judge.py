"""The delivery loop's judgement of one champion-challenger experiment (pure, no I/O).

Arms: the first variant is the champion, the last the challenger. Every comparison is
the sequential (always-valid) confidence sequence of challenger minus champion, so the
loop may look after every sweep without inflating its error rate. Order of the checks:

1. sample-ratio mismatch: decisions pause (assignment is broken, the numbers lie);
2. the primary metric or a guardrail significantly worse (interval entirely on the
   harmful side), with at least ``min_users_per_variant`` users per arm: roll back;
3. not at the final stage, and the current stage has ``min_users_per_variant`` users per
   arm of its own: advance;
4. at the final stage, the primary metric's interval entirely on the better side:
   promote;
5. older than ``max_days`` and still undecided (also while paused): stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from gbrec_core.experiments.analysis import Aggs, guardrail_metrics, metric_samples
from gbrec_core.experiments.metrics import MetricLayout
from gbrec_core.experiments.stats import sequential_test
from gbrec_core.experiments.types import Experiment

Action = Literal["pause", "rollback", "advance", "promote", "stop"]


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a verdict: ``metric``'s challenger-minus-champion ``diff`` with
    its always-valid interval, users per arm (all, and since the stage began)."""

    metric: str
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    users: tuple[int, ...]
    stage_users: tuple[int, ...]
    stage: int
    srm_p_value: float | None = None


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str
    evidence: Evidence


@dataclass(frozen=True)
class Situation:
    """Everything the judgement needs, read once per sweep."""

    experiment: Experiment
    layout: MetricLayout
    aggs: Aggs
    srm_ok: bool
    srm_p_value: float | None
    stage_start_users: Sequence[int]
    now: datetime
    max_days: float


@dataclass(frozen=True)
class Interval:
    diff: float
    low: float
    high: float
    higher_is_better: bool

    @property
    def harmful(self) -> bool:
        return self.high < 0 if self.higher_is_better else self.low > 0

    @property
    def beneficial(self) -> bool:
        return self.low > 0 if self.higher_is_better else self.high < 0


def interval(s: Situation, metric: str) -> Interval | None:
    """Challenger minus champion on ``metric`` (None before two users per arm)."""
    exp = s.experiment
    samples = metric_samples(s.layout, s.aggs, metric, cuped=True).samples
    control, challenger = samples[0], samples[-1]
    if min(float(control.n), float(challenger.n)) < 2:
        return None
    r = sequential_test(control, challenger, exp.spec.alpha, exp.spec.sequential_tuning)
    better_high = s.layout.defs[s.layout.index(metric)].higher_is_better
    return Interval(float(r.diff), float(r.ci_low), float(r.ci_high), better_high)


def _users(s: Situation) -> tuple[int, ...]:
    return tuple(int(a.get("users", 0)) for a in s.aggs)


def _evidence(s: Situation, metric: str, iv: Interval | None) -> Evidence:
    users = _users(s)
    start = list(s.stage_start_users) or [0] * len(users)
    return Evidence(
        metric=metric,
        diff=None if iv is None else iv.diff,
        ci_low=None if iv is None else iv.low,
        ci_high=None if iv is None else iv.high,
        users=users,
        stage_users=tuple(max(u - b, 0) for u, b in zip(users, start, strict=True)),
        stage=s.experiment.stage,
        srm_p_value=s.srm_p_value,
    )


def _fmt(iv: Interval) -> str:
    return f"diff {iv.diff:+.4f}, interval [{iv.low:+.4f}, {iv.high:+.4f}]"


def regression(s: Situation) -> Verdict | None:
    """Rollback when the primary metric or a guardrail is significantly worse."""
    spec = s.experiment.spec
    if min(_users(s)) < spec.min_users_per_variant:
        return None
    for metric in dict.fromkeys([spec.metrics[0], *guardrail_metrics(s.experiment)]):
        iv = interval(s, metric)
        if iv is not None and iv.harmful:
            reason = f"rolled back: challenger significantly worse on {metric} ({_fmt(iv)})"
            return Verdict("rollback", reason, _evidence(s, metric, iv))
    return None


def progress(s: Situation) -> Verdict | None:
    """Advance a stage that has enough users of its own; promote at the final stage."""
    exp, spec = s.experiment, s.experiment.spec
    primary = spec.metrics[0]
    iv = interval(s, primary)
    ev = _evidence(s, primary, iv)
    if exp.stage + 1 < len(spec.stages):
        if min(ev.stage_users) >= spec.min_users_per_variant:
            coverage = spec.stages[exp.stage + 1]
            return Verdict("advance", f"advanced to stage {exp.stage + 1} ({coverage:.0%})", ev)
        return None
    if min(ev.users) >= spec.min_users_per_variant and iv is not None and iv.beneficial:
        return Verdict("promote", f"promoted: challenger better on {primary} ({_fmt(iv)})", ev)
    return None


def expired(s: Situation) -> Verdict | None:
    exp = s.experiment
    if s.now - exp.created_at < timedelta(days=s.max_days):
        return None
    primary = exp.spec.metrics[0]
    ev = _evidence(s, primary, interval(s, primary))
    return Verdict("stop", f"stopped: undecided after {s.max_days:g} days", ev)


def judge(s: Situation) -> Verdict | None:
    """The one action the loop should take on this experiment now, if any."""
    if not s.srm_ok:
        stop = expired(s)
        if stop is not None:
            return stop
        primary = s.experiment.spec.metrics[0]
        ev = _evidence(s, primary, interval(s, primary))
        p = s.srm_p_value if s.srm_p_value is not None else float("nan")
        return Verdict("pause", f"paused: sample ratio mismatch (p={p:.2g})", ev)
    return regression(s) or progress(s) or expired(s)
