"""Experiment routing for a recommendations request: assignment and exposure logging.

Routing must never take recommendations down with it: when the experiment store is
unreachable the champion answers (the answer then carries no experiment id), and the
failure is logged and reported. An experiment id that does not exist is the caller's
mistake (NOT_FOUND), and so is ``attributes`` that is not a JSON object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gbrec_core.errors import UnavailableError
from gbrec_core.experiments import ExperimentService
from gbrec_core.serving.observer import ServingObserver

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArmChoice:
    """The experiment arm serving one request; ``analysed`` is False for forced or
    finished-experiment traffic, which is served but not counted."""

    experiment_id: str
    variant: str
    model: str
    analysed: bool = True


class ExperimentRouter:
    """Assigns users to arms and records exposures, degrading to the champion."""

    def __init__(self, experiments: ExperimentService, observer: ServingObserver) -> None:
        self.experiments = experiments
        self.observer = observer

    async def route(self, experiment_id: str, user_id: int, attributes: Any) -> ArmChoice | None:
        """The arm serving ``user_id`` in ``experiment_id``, or None for the champion."""
        decision = await asyncio.to_thread(
            self.experiments.route, experiment_id, user_id, attributes
        )
        if decision.fallback:
            self.observer.routing_failed(experiment_id)
            log.warning(
                "experiment %s routing failed, serving the champion: %s",
                experiment_id,
                decision.reason,
            )
            return None
        a = decision.assignment
        if a is None:
            return None
        return ArmChoice(experiment_id, a.variant, a.model, a.in_experiment)

    async def record_exposure(
        self, arm: ArmChoice, user_id: int, request_id: str, book_ids: Sequence[int]
    ) -> None:
        if not arm.analysed:
            return
        try:
            await asyncio.to_thread(
                self.experiments.record_exposure,
                arm.experiment_id,
                arm.variant,
                user_id,
                request_id,
                book_ids,
            )
        except UnavailableError as e:
            self.observer.exposure_failed(arm.experiment_id)
            log.warning("exposure of %s in %s not recorded: %s", request_id, arm.experiment_id, e)
