"""The delivery loop: judge running champion-challenger experiments, carry it out once.

Every API process runs :func:`run_delivery_loop` every ``experiment_sweep_seconds``;
the :class:`~gbrec_core.delivery.lease.Lease` lets one process sweep per period, and
every status change is a compare-and-set on the experiment's definition, so a decision
is carried out exactly once even when two sweeps overlap. The status changes *before*
the registry moves: a crash in between leaves a decided experiment whose registry
action is missing (logged, audited with ``ok`` false), never a decision made twice.

:meth:`DeliveryLoop.sweep` is blocking (Redis, MLflow) and returns the decisions made;
the async runner audits them (key id ``system``) and hands them to the ``notify`` hook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from gbrec_core.access import AuditLog
from gbrec_core.alerts import dashboard_link
from gbrec_core.delivery.events import (
    SYSTEM_KEY_ID,
    DeliveryEvent,
    EventName,
    Notify,
    append_decision,
)
from gbrec_core.delivery.judge import Situation, Verdict, judge
from gbrec_core.delivery.lease import Lease
from gbrec_core.errors import GbrecError
from gbrec_core.experiments.analysis import compute_results
from gbrec_core.experiments.service import ExperimentService, layout_of
from gbrec_core.experiments.types import Experiment, ExperimentStatus
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store.client import RedisClient

log = logging.getLogger(__name__)

MIN_SWEEP_SECONDS = 0.2
# The lease outlives most of a period but not all of it, so the next period's sweep
# (of whichever process comes first) finds it free despite timer jitter.
LEASE_SHARE = 0.8

EVENT_NAMES: dict[str, EventName] = {
    "pause": "srmPause",
    "rollback": "rollbackChallenger",
    "advance": "advanceExperiment",
    "promote": "promoteChallenger",
    "stop": "stopExperiment",
}
Promote = Callable[[str], object]


class DeliveryLoop:
    """Judge and act on every RUNNING experiment with ``champion_challenger`` set.

    ``promote(version)`` makes the challenger champion; the API passes
    ``ModelServer.deploy`` (loads, promotes, hot-swaps this process at once; the others
    follow through their champion watcher), the default is the registry alone.
    """

    def __init__(
        self,
        settings: Settings,
        experiments: ExperimentService,
        registry: ModelRegistry,
        client: RedisClient,
        *,
        promote: Promote | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.settings = settings
        self.experiments = experiments
        self.registry = registry
        self.client = client
        self.promote: Promote = promote or (lambda v: registry.promote(v, force=True))
        self.lease = lease or Lease(
            client, ttl_seconds=max(settings.experiment_sweep_seconds, 0.1) * LEASE_SHARE
        )

    def sweep(self) -> list[DeliveryEvent]:
        """One period: the decisions this process made (none without the lease)."""
        if not self.lease.acquire():
            return []
        events: list[DeliveryEvent] = []
        for exp in self.experiments.find(ExperimentStatus.RUNNING):
            if not exp.spec.champion_challenger:
                continue
            try:
                event = self.step(exp)
            except GbrecError as e:  # one broken experiment must not starve the others
                log.warning("delivery decision on %s failed: %s", exp.id, e)
                continue
            if event is not None:
                events.append(event)
        return events

    def situation(self, exp: Experiment) -> Situation:
        aggs = self.experiments.aggregates(exp)
        layout = layout_of(exp)
        res = compute_results(exp, layout, aggs)
        return Situation(
            experiment=exp,
            layout=layout,
            aggs=aggs,
            srm_ok=res.srm_ok,
            srm_p_value=res.srm_p_value,
            stage_start_users=self.experiments.stage_start_users(exp),
            now=datetime.now(UTC),
            max_days=self.settings.delivery_max_days,
        )

    def step(self, exp: Experiment) -> DeliveryEvent | None:
        """Judge one experiment; carry the verdict out if this call wins its CAS."""
        s = self.situation(exp)
        verdict = judge(s)
        if verdict is None:
            return None
        champion, challenger = self.arm_versions(exp)
        if not self._claim(exp, verdict, s):
            return None  # another process decided first (or the pause is recorded)
        event = self._event(exp, verdict, champion, challenger)
        error = self._carry_out(exp, verdict, challenger)
        if error is not None:
            log.error("experiment %s: %s, but %s", exp.id, verdict.reason, error)
            self.experiments.store.transition(
                exp.id, self._status(verdict), decision=f"{verdict.reason}; {error}"
            )
            event = replace(event, ok=False, details={**event.details, "error": error})
        else:
            log.warning("experiment %s: %s", exp.id, verdict.reason)
        append_decision(self.client, event)
        return event

    def arm_versions(self, exp: Experiment) -> tuple[str, str]:
        """(champion, challenger) registry versions of the first and last arm."""
        return (
            self._version(exp.spec.variants[0].model),
            self._version(exp.spec.variants[-1].model),
        )

    def _version(self, model: str) -> str:
        return model if model.isdigit() else self.registry.resolve(model)

    def _status(self, verdict: Verdict) -> ExperimentStatus:
        return {
            "rollback": ExperimentStatus.ROLLED_BACK,
            "promote": ExperimentStatus.CONCLUDED,
            "stop": ExperimentStatus.STOPPED,
        }.get(verdict.action, ExperimentStatus.RUNNING)

    def _claim(self, exp: Experiment, verdict: Verdict, s: Situation) -> bool:
        """The compare-and-set that makes this process the one carrying ``verdict`` out."""
        store = self.experiments.store
        running = ExperimentStatus.RUNNING
        if verdict.action == "pause":
            return store.transition_if(
                exp.id, {"status": running.value, "srm_paused": ""}, srm_paused="1"
            )
        if verdict.action == "advance":
            return self.experiments.advance_stage(exp, s.aggs)
        winner = exp.spec.variants[-1 if verdict.action == "promote" else 0].name
        return store.transition(
            exp.id,
            running,
            status=self._status(verdict).value,
            winner=winner if verdict.action != "stop" else "",
            decision=verdict.reason,
        )

    def _carry_out(self, exp: Experiment, verdict: Verdict, challenger: str) -> str | None:
        """Move the registry; the error text when it failed (the decision stands)."""
        try:
            if verdict.action == "promote":
                self.promote(challenger)
                self.registry.retire_challenger(challenger)
            elif verdict.action in ("rollback", "stop"):
                self.registry.retire_challenger(challenger)
        except GbrecError as e:
            return f"registry action failed: {e}"
        return None

    def _event(
        self, exp: Experiment, verdict: Verdict, champion: str, challenger: str
    ) -> DeliveryEvent:
        ev = verdict.evidence
        arms = [v.name for v in exp.spec.variants]
        details = {
            "metric": ev.metric,
            "diff": ev.diff,
            "ci_low": ev.ci_low,
            "ci_high": ev.ci_high,
            "users": dict(zip(arms, ev.users, strict=True)),
            "stage_users": dict(zip(arms, ev.stage_users, strict=True)),
            "stage": ev.stage,
            "srm_p_value": ev.srm_p_value,
        }
        return DeliveryEvent(
            event=EVENT_NAMES[verdict.action],
            experiment_id=exp.id,
            champion_version=champion,
            challenger_version=challenger,
            decision=verdict.reason,
            metric=ev.metric,
            interval=(ev.ci_low, ev.ci_high),
            dashboard_url=dashboard_link(self.settings),
            dagster_run_id=self._run_id(challenger),
            details=details,
        )

    def _run_id(self, version: str) -> str | None:
        """The Dagster run that trained ``version`` (its ``dagster:<id>`` lineage tag)."""
        try:
            tag = self.registry.lineage(version)
        except GbrecError as e:
            log.warning("lineage of v%s unavailable: %s", version, e)
            return None
        if tag is None or not tag.startswith("dagster:"):
            return None
        return tag.removeprefix("dagster:")


async def record(event: DeliveryEvent, audit: AuditLog, notify: Notify) -> None:
    """Audit a decision (key id ``system``) and hand it to the notification hook."""
    if event.audited:
        await audit.write(
            key_id=SYSTEM_KEY_ID,
            operation=event.event,
            arguments=event.arguments(),
            result={"decision": event.decision, **event.details},
            ok=event.ok,
        )
    await asyncio.to_thread(notify, event)


async def run_delivery_loop(
    loop: DeliveryLoop, audit: AuditLog, notify: Notify, interval: float
) -> None:
    """Sweep forever every ``interval`` seconds (cancel the task to stop)."""
    period = max(interval, MIN_SWEEP_SECONDS)
    while True:
        await asyncio.sleep(period)
        try:
            for event in await asyncio.to_thread(loop.sweep):
                await record(event, audit, notify)
        except GbrecError as e:  # e.g. Redis down: try again next period
            log.warning("delivery sweep skipped: %s", e)
        except Exception:  # a background task's boundary: log it, keep sweeping
            log.exception("delivery sweep failed")
