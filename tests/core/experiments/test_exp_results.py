"""End-to-end results through real Redis aggregates vs independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from gbrec_core.experiments import (
    DecisionEvent,
    Event,
    EventType,
    ExperimentService,
    ExperimentSpec,
    ExperimentStatus,
    ExposureRow,
    MetricSpec,
    Strategy,
    VariantSpec,
)
from gbrec_core.experiments.erasure import erase_user
from gbrec_core.experiments.rawlog import log_key

AB = (VariantSpec("control", "champion"), VariantSpec("treatment", "challenger"))


def _expose(
    service: ExperimentService, exp_id: str, users: range, books: list[int] | None = None
) -> dict[int, int]:
    """Expose each user to their assigned variant; returns user -> variant index."""
    assigned = {}
    rows = []
    for u in users:
        a = service.assign(exp_id, u)
        if a is not None:
            assigned[u] = a.variant_index
            rows.append(ExposureRow(u, a.variant_index, 0.0, books or []))
    service.record_exposures(exp_id, rows, request_id="req")
    return assigned


def _satisfaction(
    service: ExperimentService, exp_id: str, assigned: dict[int, int], effect: float, seed: int = 0
) -> dict[int, list[float]]:
    rng = np.random.default_rng(seed)
    per_user: dict[int, list[float]] = {}
    events = []
    for u, v in assigned.items():
        for _ in range(int(rng.integers(1, 4))):  # several events per user
            value = float(rng.normal(3.0 + effect * v, 1.0))
            per_user.setdefault(u, []).append(value)
            events.append(Event(u, EventType.SATISFACTION, exp_id, value=value))
    assert service.record_events(events).accepted == len(events)
    return per_user


def _user_means(assigned: dict[int, int], per_user: dict[int, list[float]], v: int) -> np.ndarray:
    return np.array([np.mean(per_user[u]) for u, x in assigned.items() if x == v])


def test_fixed_horizon_matches_independent_welch(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="fh", variants=AB, metrics=("satisfaction",), sequential=False, auto_stop=False
        )
    )
    assigned = _expose(service, "fh", range(1, 1201))
    per_user = _satisfaction(service, "fh", assigned, effect=0.1)
    res = service.results("fh")
    c, t = _user_means(assigned, per_user, 0), _user_means(assigned, per_user, 1)
    control, treat = (m for m in res.metrics if m.metric == "satisfaction")
    assert control.mean == pytest.approx(c.mean()) and treat.mean == pytest.approx(t.mean())
    assert (control.users, treat.users) == (len(c), len(t))
    ci = sps.ttest_ind(t, c, equal_var=False).confidence_interval(0.95)
    assert treat.ci_low == pytest.approx(ci.low, rel=1e-6)
    assert treat.ci_high == pytest.approx(ci.high, rel=1e-6)
    assert treat.diff == pytest.approx(t.mean() - c.mean())
    assert treat.lift == pytest.approx(t.mean() / c.mean() - 1)
    counts = [v.users for v in res.variants]
    assert res.srm_p_value == pytest.approx(sps.chisquare(counts).pvalue)
    assert sum(v.exposures for v in res.variants) == len(assigned)


def test_sequential_interval_wider_and_contains_estimate(service: ExperimentService) -> None:
    for eid, seq in (("a", False), ("b", True)):
        service.create(
            ExperimentSpec(
                id=eid,
                variants=AB,
                metrics=("satisfaction",),
                seed="same",
                sequential=seq,
                auto_stop=False,
            )
        )
        assigned = _expose(service, eid, range(1, 801))
        _satisfaction(service, eid, assigned, effect=0.05, seed=1)
    fixed = service.results("a").metrics[1]
    seq = service.results("b").metrics[1]
    assert seq.diff == pytest.approx(fixed.diff)
    assert seq.ci_low < fixed.ci_low and seq.ci_high > fixed.ci_high  # type: ignore[operator]
    assert seq.ci_low < seq.diff < seq.ci_high  # type: ignore[operator]


def test_ctr_precision_recall_per_user(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="m",
            variants=AB,
            metrics=("ctr", "precision", "recall"),
            sequential=False,
            auto_stop=False,
            forced_users={1: "control", 2: "control", 3: "control"},
        )
    )
    # forced users are served but not analysed, so expose by index directly
    service.record_exposures("m", [ExposureRow(u, 0, 0.0, [10, 11, 12, 13]) for u in (1, 2, 3)])
    # shown again (and a duplicate in one list): still 4 distinct books per user
    service.record_exposures("m", [ExposureRow(u, 0, 0.0, [10, 10, 11]) for u in (1, 2, 3)])
    ev = [
        Event(1, EventType.IMPRESSION, "m", 10),
        Event(1, EventType.IMPRESSION, "m", 11),
        Event(1, EventType.CLICK, "m", 10),
        Event(1, EventType.CLICK, "m", 10),  # same book
        Event(2, EventType.IMPRESSION, "m", 12),
        Event(2, EventType.RATING, "m", 12, value=5),
        Event(2, EventType.RATING, "m", 99, value=4),  # positive, never recommended
        Event(3, EventType.RATING, "m", 13, value=2),  # not positive
        Event(999, EventType.CLICK, "m", 10),  # never exposed
    ]
    r = service.record_events(ev)
    assert (r.accepted, r.unattributed) == (9, 1)
    rows = {m.metric: m for m in service.results("m").metrics if m.variant == "control"}
    assert rows["ctr"].mean == pytest.approx(2 / 3)  # clicks 2 / impressions 3
    assert rows["precision"].mean == pytest.approx(2 / 12)  # distinct hits / books shown
    assert rows["recall"].mean == pytest.approx(1 / 2)  # user 2: 1 of 2 positive ratings
    assert rows["ctr"].users == 3


def test_ctr_ratio_matches_independent_delta_method(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(id="c", variants=AB, metrics=("ctr",), sequential=False, auto_stop=False)
    )
    assigned = _expose(service, "c", range(1, 601))
    rng = np.random.default_rng(2)
    clicks, imps = {}, {}
    events = []
    for u, v in assigned.items():
        imps[u] = int(rng.integers(0, 6))
        clicks[u] = int(rng.binomial(imps[u], 0.2 + 0.05 * v))
        events += [Event(u, EventType.IMPRESSION, "c")] * imps[u]
        events += [Event(u, EventType.CLICK, "c")] * clicks[u]
    service.record_events(events)
    treat = service.results("c").metrics[1]

    def arm(v: int) -> tuple[float, float]:
        x = np.array([clicks[u] for u, a in assigned.items() if a == v], float)
        y = np.array([imps[u] for u, a in assigned.items() if a == v], float)
        cov = np.cov(x, y)
        r = x.sum() / y.sum()
        var = (cov[0, 0] - 2 * r * cov[0, 1] + r**2 * cov[1, 1]) / y.mean() ** 2 / len(x)
        return r, var

    (rc, vc), (rt, vt) = arm(0), arm(1)
    assert treat.mean == pytest.approx(rt)
    assert treat.diff == pytest.approx(rt - rc)
    half = (treat.ci_high - treat.ci_low) / 2  # type: ignore[operator]
    assert half == pytest.approx(sps.norm.ppf(0.975) * np.sqrt(vc + vt), rel=0.01)


def test_unit_of_analysis_is_the_user(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="u",
            variants=AB,
            metrics=("satisfaction",),
            forced_users={1: "control", 2: "control", 3: "control"},
        )
    )
    service.record_exposures("u", [ExposureRow(u, 0, 0.0, []) for u in (1, 2, 3)])
    service.record_events(
        [
            Event(1, EventType.SATISFACTION, "u", value=5.0),
            Event(2, EventType.SATISFACTION, "u", value=1.0),
            Event(2, EventType.SATISFACTION, "u", value=2.0),
        ]
    )
    row = service.results("u").metrics[0]
    assert row.users == 2  # user 3 sent nothing; user 2's two events are one observation
    assert row.mean == pytest.approx((5.0 + 1.5) / 2)


def test_custom_metric_and_cuped(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="cm",
            variants=AB,
            metrics=("ratings",),
            sequential=False,
            auto_stop=False,
            custom_metrics=(MetricSpec("ratings", EventType.RATING, "count"),),
        )
    )
    rng = np.random.default_rng(9)
    rows, events, pre = [], [], {}
    for u in range(1, 801):
        a = service.assign("cm", u)
        assert a is not None
        pre[u] = float(rng.poisson(5))
        rows.append(ExposureRow(u, a.variant_index, pre[u], []))
        n = int(rng.poisson(pre[u]))  # strongly correlated with the pre-period value
        events += [Event(u, EventType.RATING, "cm", 1, value=3.0)] * n
    service.record_exposures("cm", rows)
    service.record_events(events)
    treat = service.results("cm").metrics[1]
    assert treat.cuped
    raw_counts = {u: 0 for u in pre}
    for e in events:
        raw_counts[e.user_id] += 1
    plain_half = sps.norm.ppf(0.975) * np.sqrt(np.var(list(raw_counts.values())) * 2 / 400)
    assert (treat.ci_high - treat.ci_low) / 2 < plain_half  # type: ignore[operator]


def test_auto_stop_concludes_ordinary_experiments_only(exp_settings, redis_conn) -> None:  # type: ignore[no-untyped-def]
    """results() auto-stops an ordinary experiment (no hook: nothing to promote); a
    champion-challenger one is left to the delivery loop (gbrec_core.delivery)."""
    calls: list[DecisionEvent] = []
    service = ExperimentService(exp_settings, redis_conn, decision_hook=calls.append)
    service.create(
        ExperimentSpec(
            id="auto",
            variants=AB,
            metrics=("satisfaction",),
            sequential_tuning=1000,
        )
    )
    assigned = _expose(service, "auto", range(1, 1001))
    _satisfaction(service, "auto", assigned, effect=0.6)
    res = service.results("auto")
    assert res.status is ExperimentStatus.CONCLUDED and res.winner == "treatment"
    assert service.get("auto").status is ExperimentStatus.CONCLUDED
    assert calls == []
    assert service.assign("auto", 5).variant == "treatment"  # type: ignore[union-attr]
    assert service.record_events([Event(1, EventType.CLICK, "auto")]).rejected == 1
    service.create(
        ExperimentSpec(
            id="cc",
            variants=AB,
            metrics=("satisfaction",),
            champion_challenger=True,
            sequential_tuning=1000,
        )
    )
    _satisfaction(service, "cc", _expose(service, "cc", range(1, 1001)), effect=0.6)
    assert service.results("cc").status is ExperimentStatus.RUNNING


def test_no_auto_stop_without_effect(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="null", variants=AB, metrics=("satisfaction",)))
    assigned = _expose(service, "null", range(1, 601))
    _satisfaction(service, "null", assigned, effect=0.0, seed=4)
    assert service.results("null").status is ExperimentStatus.RUNNING


def test_staged_guardrail_regression_rolls_back(exp_settings, redis_conn) -> None:  # type: ignore[no-untyped-def]
    calls: list[DecisionEvent] = []
    service = ExperimentService(exp_settings, redis_conn, decision_hook=calls.append)
    service.create(
        ExperimentSpec(
            id="g",
            variants=AB,
            strategy=Strategy.STAGED,
            stages=(0.5, 1.0),
            metrics=("satisfaction",),
            auto_stop=False,
            champion_challenger=True,
        )
    )
    assigned = _expose(service, "g", range(1, 1201))
    _satisfaction(service, "g", assigned, effect=-0.8)
    exp = service.advance("g")
    assert exp.status is ExperimentStatus.ROLLED_BACK and exp.stage == 0
    assert exp.decision and "satisfaction/treatment" in exp.decision
    assert {service.assign("g", u).variant for u in range(1, 300)} == {"control"}  # type: ignore[union-attr]
    assert [(c.action, c.variant) for c in calls] == [("rollback", "treatment")]


def test_srm_flagged_on_skewed_split(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="srm", variants=AB, metrics=("satisfaction",)))
    rows = [ExposureRow(u, 0 if u % 10 < 6 else 1, 0.0, []) for u in range(1, 2001)]
    service.record_exposures("srm", rows)
    res = service.results("srm")
    assert not res.srm_ok
    assert res.srm_p_value == pytest.approx(sps.chisquare([1200, 800]).pvalue)


def test_snapshots_and_privacy_delete(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="p", variants=AB, metrics=("satisfaction",), auto_stop=False))
    assigned = _expose(service, "p", range(1, 201))
    per_user = _satisfaction(service, "p", assigned, effect=0.0)
    first = service.results("p")
    victim = next(iter(assigned))
    erased = erase_user(service, victim)
    assert erased.raw_events == len(per_user[victim]) + 1  # events + exposure
    assert (erased.experiments, erased.exposures, erased.snapshots) == (1, 1, 1)
    after = service.results("p")
    v = assigned[victim]
    others = _user_means({u: x for u, x in assigned.items() if u != victim}, per_user, v)
    row = next(m for m in after.metrics if m.variant == AB[v].name)
    assert row.users == len(others) and row.mean == pytest.approx(others.mean())
    assert sum(x.users for x in after.variants) == len(assigned) - 1
    history = service.history("p")
    assert [h.computed_at for h in history][0::2] == [first.computed_at, after.computed_at]
    assert history[1].variants == after.variants  # the erasure's own snapshot
    logged = service.store.logs.events(log_key("p"))
    assert len(logged) == 200 + sum(len(v) for v in per_user.values()) - erased.raw_events
    assert service.pseudonym(victim) not in {e["user"] for e in logged}
