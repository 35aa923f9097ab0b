"""ExperimentService: the one entry point the API and Dagster use for experiments."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gbrec_core.access.pseudonyms import Pseudonymizer
from gbrec_core.errors import (
    ExperimentError,
    GbrecError,
    InvalidInputError,
    ModelError,
    NotFoundError,
    StoreDownError,
    UnavailableError,
)
from gbrec_core.experiments.analysis import compute_results
from gbrec_core.experiments.assignment import assign, validate_spec
from gbrec_core.experiments.buffer import WriteBuffer
from gbrec_core.experiments.codec import results_from_json, results_to_json
from gbrec_core.experiments.decisions import (
    Decision,
    DecisionEvent,
    DecisionHook,
    decide,
    guardrail_regressions,
)
from gbrec_core.experiments.events import event_problem
from gbrec_core.experiments.metrics import MetricLayout
from gbrec_core.experiments.patterns import check_patterns
from gbrec_core.experiments.store import ExperimentStore, ExposureRow
from gbrec_core.experiments.types import (
    Assignment,
    Event,
    Experiment,
    ExperimentResults,
    ExperimentSpec,
    ExperimentStatus,
    RecordResult,
    RouteDecision,
    Strategy,
)
from gbrec_core.experiments.writer import Writer, plan_events, plan_exposures
from gbrec_core.paging import load_page
from gbrec_core.settings import Settings
from gbrec_core.store.client import RedisClient

log = logging.getLogger(__name__)

# Checks that a variant's ``model`` (version number or alias) can serve; raises
# NotFoundError/InvalidInputError when unknown, ModelError when it cannot load. The
# caller supplies it (e.g. ``ModelServer.ensure_version``, which also preloads), so the
# experiments core never imports the registry.
ModelResolver = Callable[[str], object]


class ExperimentService:
    """Create, assign, record and analyse experiments stored in Redis.

    Definitions are cached for ``settings.experiment_cache_seconds`` so assignment (pure
    hashing) keeps working while Redis is down; writes made during an outage go to a
    bounded buffer (``settings.event_buffer_size`` events) replayed in order by
    :meth:`flush`, which every write also attempts first. :meth:`results` auto-stops
    ordinary experiments only: champion-challenger ones are decided by the delivery loop
    (``gbrec_core.delivery.loop``). ``decision_hook`` is called when a manual
    :meth:`advance` rolls a champion-challenger experiment back on a guardrail.
    User ids are turned into keyed pseudonyms (``pseudonym``) before any write or
    buffering; assignment alone sees the real id, as GrowthBook SDKs do.
    """

    def __init__(
        self,
        settings: Settings,
        redis_client: RedisClient,
        *,
        decision_hook: DecisionHook | None = None,
    ) -> None:
        self.settings = settings
        self.store = ExperimentStore(
            redis_client,
            retention_days=settings.event_retention_days,
            books_ttl_days=settings.event_retention_days,
            history_days=settings.experiment_history_days,
        )
        self.buffer = WriteBuffer(settings.event_buffer_size)
        self.writer = Writer(self.store, self.buffer, self._resolve)
        self.decision_hook = decision_hook
        self.pseudonym = Pseudonymizer.from_settings(settings)
        self._cache: dict[str, tuple[Experiment, float]] = {}
        self._layouts: dict[str, tuple[ExperimentSpec, MetricLayout]] = {}

    # definitions -------------------------------------------------------------------------
    def create(
        self, spec: ExperimentSpec, *, resolve_model: ModelResolver | None = None
    ) -> Experiment:
        """Validate and store ``spec``; with ``resolve_model`` every variant's model must
        resolve first (InvalidInputError naming the variant), so no arm fails at serving."""
        validate_spec(spec)
        check_patterns(spec.targeting)
        if resolve_model is not None:
            check_models(spec, resolve_model)
        if not self.store.create(spec):
            raise ExperimentError(f"experiment {spec.id!r} already exists")
        return self.get(spec.id)

    def get(self, experiment_id: str) -> Experiment:
        """Fresh from Redis (NotFoundError); the cached copy while Redis is unreachable."""
        try:
            exp = self.store.load(experiment_id)
        except StoreDownError as e:
            cached = self._cache.get(experiment_id)
            if cached is None:
                raise UnavailableError(f"Redis unreachable: {e}") from e
            # Re-arm the cache so an outage costs one failed round trip per cache period,
            # not one per request.
            self._cache[experiment_id] = (cached[0], time.monotonic())
            return cached[0]
        if exp is None:
            raise NotFoundError(f"experiment {experiment_id!r} not found")
        self._cache[experiment_id] = (exp, time.monotonic())
        return exp

    def _cached(self, experiment_id: str) -> Experiment:
        hit = self._cache.get(experiment_id)
        if hit and time.monotonic() - hit[1] < self.settings.experiment_cache_seconds:
            return hit[0]
        return self.get(experiment_id)

    def _resolve(self, experiment_id: str) -> tuple[Experiment, MetricLayout] | None:
        try:
            exp = self._cached(experiment_id)
        except NotFoundError:
            return None
        return exp, self._layout(exp)

    def _layout(self, exp: Experiment) -> MetricLayout:
        """The experiment's layout, kept while its spec is unchanged: the layout
        memoises the wire text of event updates across batches."""
        hit = self._layouts.get(exp.id)
        if hit is None or hit[0] != exp.spec:
            hit = (exp.spec, layout_of(exp))
            self._layouts[exp.id] = hit
        return hit[1]

    def find(
        self,
        status: ExperimentStatus | None = None,
        *,
        first: int | None = None,
        after: str | None = None,
    ) -> list[Experiment]:
        """A page of experiments by id, optionally of one ``status``; definitions are
        loaded only until the page is full."""

        def load(experiment_id: str) -> Experiment | None:
            found = self.get(experiment_id)
            return found if status is None or found.status is status else None

        return load_page(self.store.ids(), load, first=first, after=after)

    # assignment ----------------------------------------------------------------------------
    def assign(
        self, experiment_id: str, user_id: int, attributes: Mapping[str, Any] | None = None
    ) -> Assignment | None:
        """GrowthBook-compatible variant for the user (None: not in the experiment)."""
        return assign(self._cached(experiment_id), user_id, attributes)

    def route(
        self, experiment_id: str, user_id: int, attributes: Mapping[str, Any] | None = None
    ) -> RouteDecision:
        """Like :meth:`assign` but never raises on an outage: ``fallback`` = serve control."""
        try:
            a = self.assign(experiment_id, user_id, attributes)
        except UnavailableError as e:
            return RouteDecision(None, fallback=True, reason=f"experiment store unavailable: {e}")
        return RouteDecision(a, fallback=False, reason=a.reason if a else "not_in_experiment")

    # writes --------------------------------------------------------------------------------
    def record_exposure(
        self,
        experiment_id: str,
        variant: str,
        user_id: int,
        request_id: str,
        book_ids: Sequence[int],
        *,
        covariate: float | None = None,
    ) -> RecordResult:
        """Count one served variant; ``covariate`` is the user's pre-period value (CUPED)."""
        exp = self._cached(experiment_id)
        names = [v.name for v in exp.spec.variants]
        if variant not in names:
            raise InvalidInputError(f"unknown variant {variant!r} of {experiment_id!r}")
        if exp.status is not ExperimentStatus.RUNNING:
            return _not_running(exp, 1)
        books = [int(b) for b in book_ids]
        row = ExposureRow(int(user_id), names.index(variant), float(covariate or 0.0), books)
        return self._write_exposures(exp, [row], request_id)

    def record_exposures(
        self, experiment_id: str, rows: Sequence[ExposureRow], request_id: str = ""
    ) -> RecordResult:
        """Batch form of :meth:`record_exposure` (``ExposureRow.variant`` is the index)."""
        exp = self._cached(experiment_id)
        if any(not 0 <= r.variant < len(exp.spec.variants) for r in rows):
            raise InvalidInputError(f"variant index out of range for {experiment_id!r}")
        if exp.status is not ExperimentStatus.RUNNING:
            return _not_running(exp, len(rows))
        return self._write_exposures(exp, rows, request_id)

    def _write_exposures(
        self, exp: Experiment, rows: Sequence[ExposureRow], request_id: str
    ) -> RecordResult:
        names = [v.name for v in exp.spec.variants]
        writes = plan_exposures(exp.id, names, rows, request_id, self.pseudonym.of)
        _, buffered = self.writer.write(writes)
        return RecordResult(accepted=len(rows), rejected=0, buffered=buffered)

    def record_events(self, events: Sequence[Event]) -> RecordResult:
        """Validate, attribute and store events; untagged events go to every running
        experiment. ``unattributed`` counts tagged events from never-exposed users."""
        errors: list[str] = []
        groups: dict[str | None, list[Event]] = {}
        checked: dict[str | None, str | None] = {}
        for i, ev in enumerate(events):
            if ev.experiment_id not in checked:
                checked[ev.experiment_id] = self._experiment_problem(ev)
            problem = event_problem(ev) or checked[ev.experiment_id]
            if problem:
                errors.append(f"event {i}: {problem}")
            else:
                groups.setdefault(ev.experiment_id, []).append(ev)
        running = self._running_ids() if None in groups else []
        tagged = sum(len(v) for k, v in groups.items() if k is not None)
        attributed, buffered = self.writer.write(plan_events(groups, running, self.pseudonym.of))
        accepted = sum(len(v) for v in groups.values())
        unattributed = 0 if buffered or None in groups else max(tagged - attributed, 0)
        return RecordResult(accepted, len(errors), buffered, unattributed, tuple(errors))

    def _experiment_problem(self, ev: Event) -> str | None:
        if ev.experiment_id is None:
            return None
        try:
            exp = self._cached(ev.experiment_id)
        except NotFoundError:
            return f"unknown experiment {ev.experiment_id!r}"
        except UnavailableError:
            return None  # checked again when the buffer is replayed
        if exp.status is not ExperimentStatus.RUNNING:
            return f"experiment {exp.id!r} is {exp.status.value}"
        return None

    def _running_ids(self) -> list[str]:
        try:
            return [e.id for e in self.find(ExperimentStatus.RUNNING)]
        except UnavailableError:
            return [i for i, (e, _) in self._cache.items() if e.status is ExperimentStatus.RUNNING]

    def flush(self) -> int:
        """Replay buffered writes; returns events flushed (UnavailableError if still down)."""
        try:
            return self.writer.flush()
        except StoreDownError as e:
            raise UnavailableError(f"Redis still unreachable; {len(self.buffer)} buffered") from e

    # analysis and lifecycle ---------------------------------------------------------------
    def results(self, experiment_id: str) -> ExperimentResults:
        """Statistics from running sums; applies auto-stop/rollback and snapshots."""
        exp = self.get(experiment_id)
        layout = layout_of(exp)
        aggs = self.store.aggregates(exp.id, len(exp.spec.variants))
        res = compute_results(exp, layout, aggs)
        # Champion-challenger experiments are decided by the delivery loop alone
        # (gbrec_core.delivery.loop), which also moves the registry's aliases.
        decision = None if exp.spec.champion_challenger else decide(exp, layout, aggs, res)
        if decision is not None and self._apply(exp, decision, res):
            res = compute_results(self.get(exp.id), layout, aggs)
        self._maybe_snapshot(res)
        return res

    def _apply(self, exp: Experiment, d: Decision, res: ExperimentResults) -> bool:
        if not self.store.transition(
            exp.id,
            ExperimentStatus.RUNNING,
            status=d.status.value,
            winner=d.winner,
            decision=d.reason,
        ):
            return False  # another process decided first
        log.info("experiment %s: %s", exp.id, d.reason)
        if d.action and self.decision_hook and exp.spec.champion_challenger:
            variant = d.winner if d.action == "promote" else exp.spec.variants[-1].name
            model = next(v.model for v in exp.spec.variants if v.name == variant)
            try:
                self.decision_hook(DecisionEvent(self.get(exp.id), d.action, variant, model, res))
            except GbrecError as e:  # the decision stands; record why the hook failed
                self.store.transition(exp.id, d.status, decision=f"{d.reason}; hook failed: {e}")
        return True

    def _maybe_snapshot(self, res: ExperimentResults) -> None:
        last = self.store.last_snapshot_time(res.experiment_id)
        if last is None or time.time() - last >= self.settings.experiment_snapshot_seconds:
            self.store.add_snapshot(res.experiment_id, results_to_json(res))

    def history(
        self, experiment_id: str, since: float = 0.0, limit: int | None = None
    ) -> list[ExperimentResults]:
        """Result snapshots over time (for charts), oldest first; at most ``limit``,
        spread evenly (only those are read)."""
        found = self.store.snapshots(experiment_id, since, limit)
        return [results_from_json(s) for s in found]

    def advance(self, experiment_id: str) -> Experiment:
        """Next STAGED coverage step, after checking guardrails (regression: roll back)."""
        exp = self.get(experiment_id)
        if exp.spec.strategy is not Strategy.STAGED:
            raise ExperimentError(f"{exp.id!r} is {exp.spec.strategy.value}, not STAGED")
        if exp.status is not ExperimentStatus.RUNNING:
            raise ExperimentError(f"{exp.id!r} is {exp.status.value}")
        if exp.stage + 1 >= len(exp.spec.stages):
            raise ExperimentError(f"{exp.id!r} is already at its final stage")
        aggs = self.store.aggregates(exp.id, len(exp.spec.variants))
        if regressed := guardrail_regressions(exp, layout_of(exp), aggs):
            res = compute_results(exp, layout_of(exp), aggs)
            reason = f"rolled back: guardrail regression in {', '.join(regressed)}"
            self._apply(
                exp,
                Decision(ExperimentStatus.ROLLED_BACK, exp.control.name, reason, "rollback"),
                res,
            )
            return self.get(exp.id)
        if not self.advance_stage(exp, aggs):
            raise ExperimentError(f"{exp.id!r} changed status or stage concurrently")
        return self.get(exp.id)

    def advance_stage(self, exp: Experiment, aggs: list[dict[str, float]]) -> bool:
        """Move ``exp`` from its stage to the next one if nobody did first (compare-and-set
        on status and stage), recording each arm's users at the new stage's start as
        ``stage_users`` (JSON list) so that a stage's own users can be counted later."""
        users = [int(a.get("users", 0)) for a in aggs]
        return self.store.transition_if(
            exp.id,
            {"status": ExperimentStatus.RUNNING.value, "stage": str(exp.stage)},
            stage=str(exp.stage + 1),
            stage_users=json.dumps(users),
        )

    def stage_start_users(self, exp: Experiment) -> list[int]:
        """Each arm's users when the current stage began (zeros for the first stage)."""
        raw = self.store.field(exp.id, "stage_users")
        if exp.stage == 0 or not raw:
            return [0] * len(exp.spec.variants)
        return [int(u) for u in json.loads(raw)]

    def aggregates(self, exp: Experiment) -> list[dict[str, float]]:
        """The variants' running sums (what results are computed from)."""
        return self.store.aggregates(exp.id, len(exp.spec.variants))

    def stop(self, experiment_id: str) -> Experiment:
        exp = self.get(experiment_id)
        if not self.store.transition(
            exp.id,
            ExperimentStatus.RUNNING,
            status=ExperimentStatus.STOPPED.value,
            decision="stopped",
        ):
            raise ExperimentError(f"{exp.id!r} is {exp.status.value}, not RUNNING")
        return self.get(exp.id)

    def trim_events(self) -> int:
        """Apply the retention to the raw-event logs now (writes also trim their own)."""
        return self.store.trim()


def check_models(spec: ExperimentSpec, resolve_model: ModelResolver) -> None:
    """InvalidInputError listing every variant whose model does not resolve or load."""
    problems: list[str] = []
    for v in spec.variants:
        try:
            resolve_model(v.model)
        except (NotFoundError, InvalidInputError):
            problems.append(
                f"variant {v.name!r}: model {v.model!r} is not a registered version or alias"
            )
        except ModelError as e:
            problems.append(f"variant {v.name!r}: model {v.model!r} cannot be loaded ({e})")
        except UnavailableError as e:
            raise UnavailableError(
                f"cannot check model {v.model!r} of variant {v.name!r}: {e}"
            ) from e
    if problems:
        raise InvalidInputError(f"experiment {spec.id!r}: " + "; ".join(problems))


def _not_running(exp: Experiment, n: int) -> RecordResult:
    """Exposures after a decision are served traffic, not experiment data: refused, counted."""
    return RecordResult(0, n, errors=(f"experiment {exp.id!r} is {exp.status.value}",))


def layout_of(exp: Experiment) -> MetricLayout:
    return MetricLayout.build(exp.spec.custom_metrics, exp.spec.positive_rating)
