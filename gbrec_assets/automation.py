"""Automation conditions and freshness policies of the asset graph.

Why not ``AutomationCondition.on_cron``: it waits until every dependency has updated
since the tick, so with unchanged data it never retrains. The weekly retrain must
fire on the tick alone, hence :func:`retrain_condition` composes the three triggers
(weekly tick, failed freshness, new upstream data) itself and gates them on the
upstream blocking checks, so a corrupt file can never start a training run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dagster as dg

from gbrec_core.settings import Settings


def model_freshness_policy(settings: Settings) -> dg.FreshnessPolicy:
    """Trained models warn after ``freshness_warn_days`` and fail after ``freshness_fail_days``."""
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=settings.freshness_fail_days),
        warn_window=timedelta(days=settings.freshness_warn_days),
    )


def retrain_condition(settings: Settings) -> dg.AutomationCondition[Any]:
    """Retrain on the weekly tick, on failed freshness or when new data arrived upstream."""
    AC = dg.AutomationCondition  # noqa: N806
    tick: dg.AutomationCondition[Any] = AC.cron_tick_passed(settings.retrain_cron)
    weekly = tick.since_last_handled().with_label("weekly_tick")
    # newly_true: the freshness daemon keeps reporting FAIL until it re-evaluates after
    # the retrain, so reacting to the state itself would request a second run.
    failed: dg.AutomationCondition[Any] = AC.freshness_failed().newly_true()
    stale = failed.since_last_handled().with_label("stale_model")
    new_data = AC.any_deps_updated().since_last_handled().with_label("new_upstream_data")
    return (
        (weekly | stale | new_data)
        & AC.all_deps_blocking_checks_passed()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("retrain")


def downstream_condition() -> dg.AutomationCondition[Any]:
    """Everything after the data: run eagerly once upstream blocking checks have passed."""
    AC = dg.AutomationCondition  # noqa: N806
    return (AC.eager() & AC.all_deps_blocking_checks_passed()).with_label("eager_after_checks")
