"""``start_delivery``: what happens to a version right after it is registered.

Mode ``gate``: the version is proposed and the offline gate makes it champion at once.
Mode ``experiment``: the first version ever becomes champion directly (there is nothing
to test it against); a later one that passes the offline gate becomes ``challenger``
and a STAGED ``challenger-v<N>`` experiment starts; one that fails stays unaliased.
Only one challenger experiment runs: older running ones are stopped first. Every move
(a new champion, a challenger experiment) is written to the audit log as key id
``system`` by :func:`audit_delivery`.
"""

from __future__ import annotations

import dataclasses
import logging

from gbrec_core.access.audited import record_event
from gbrec_core.delivery.events import SYSTEM_KEY_ID
from gbrec_core.delivery.spec import CHALLENGER_PREFIX, challenger_spec
from gbrec_core.errors import ExperimentError, InvalidInputError
from gbrec_core.experiments.service import ExperimentService
from gbrec_core.experiments.types import ExperimentStatus
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import DeliveryMode, Settings

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DeliveryOutcome:
    """Where ``version`` stands after delivery started.

    ``champion`` is True when the version is champion now; ``experiment_id`` is set only
    when a challenger experiment was started; ``champion_version`` is the champion
    after the call (None only if there is none); ``stopped`` lists the older challenger
    experiments this call stopped.
    """

    version: str
    mode: DeliveryMode
    champion: bool
    experiment_id: str | None
    reason: str
    champion_version: str | None = None
    stopped: tuple[str, ...] = ()

    @property
    def alias(self) -> str | None:
        """The alias the version got: champion, challenger or none."""
        if self.champion:
            return "champion"
        return "challenger" if self.experiment_id else None


def start_delivery(
    settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService | None,
    version: str,
    *,
    evidence: str | None = None,
) -> DeliveryOutcome:
    """Deliver the freshly registered ``version`` according to ``settings.delivery``.

    ``experiments`` may be None in gate mode (Redis is then never touched); in
    experiment mode a challenger without it raises ``InvalidInputError``.
    ``evidence`` (e.g. the offline evaluation's paired test of the chosen family
    against the runner-up) is appended to the outcome's reason, so the decision
    record (the asset's metadata, the audit entry) carries it.
    """
    outcome = _deliver(settings, registry, experiments, version)
    if not evidence:
        return outcome
    return dataclasses.replace(outcome, reason=f"{outcome.reason}; {evidence}")


def _deliver(
    settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService | None,
    version: str,
) -> DeliveryOutcome:
    if settings.delivery == "gate":
        return _gate(registry, version)
    champion = registry.champion_version()
    if champion is None:
        registry.promote(version, force=True)
        reason = "no champion yet: the first version becomes champion directly"
        return DeliveryOutcome(version, "experiment", True, None, reason, version)
    decision = registry.evaluate_gate(version)
    if not decision.accepted:
        return DeliveryOutcome(version, "experiment", False, None, decision.reason, champion)
    if experiments is None:
        raise InvalidInputError("experiment delivery needs an ExperimentService (Redis)")
    return _start_challenger(settings, registry, experiments, champion, version, decision.reason)


def _gate(registry: ModelRegistry, version: str) -> DeliveryOutcome:
    decision = registry.propose(version)
    champion = version if decision.accepted else decision.champion_version
    return DeliveryOutcome(version, "gate", decision.accepted, None, decision.reason, champion)


def _start_challenger(
    settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService,
    champion: str,
    version: str,
    gate_reason: str,
) -> DeliveryOutcome:
    """Experiment first, then the alias: ``challenger`` never names a version that has
    no experiment (a failure in between leaves a running experiment the sweeper owns)."""
    spec = challenger_spec(settings, champion, version)
    stopped = stop_challenger_experiments(experiments, keep=spec.id)
    experiments.create(spec, resolve_model=registry.resolve)
    registry.set_challenger(version)
    reason = f"{gate_reason}; A/B experiment {spec.id} started against champion v{champion}"
    log.info("delivery of v%s: %s", version, reason)
    return DeliveryOutcome(version, "experiment", False, spec.id, reason, champion, stopped)


def stop_challenger_experiments(experiments: ExperimentService, keep: str) -> tuple[str, ...]:
    """Stop every RUNNING ``challenger-v*`` experiment except ``keep``; their ids.

    One that another process decided in the meantime is no longer RUNNING: skipped.
    """
    stopped: list[str] = []
    for exp in experiments.find(ExperimentStatus.RUNNING):
        if not exp.id.startswith(CHALLENGER_PREFIX) or exp.id == keep:
            continue
        try:
            experiments.stop(exp.id)
        except ExperimentError as e:
            log.info("challenger experiment %s not stopped: %s", exp.id, e)
            continue
        stopped.append(exp.id)
    return tuple(stopped)


def audit_delivery(settings: Settings, outcome: DeliveryOutcome, *, trigger: str) -> None:
    """Audit a champion move or a started challenger (nothing when the version was
    rejected: no alias moved)."""
    if not (outcome.champion or outcome.experiment_id):
        return
    record_event(
        settings,
        key_id=SYSTEM_KEY_ID,
        operation="promoteChampion" if outcome.champion else "startChallenger",
        arguments={"version": outcome.version, "mode": outcome.mode, "trigger": trigger},
        result={
            "reason": outcome.reason,
            "championVersion": outcome.champion_version,
            "experimentId": outcome.experiment_id,
        },
        ok=True,
    )
