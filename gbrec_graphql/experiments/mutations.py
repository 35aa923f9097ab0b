"""Mutations of the experiments domain: admin (audited) and recordEvents (events scope)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import strawberry

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments import types as core
from gbrec_core.registry import ModelVersionInfo
from gbrec_graphql.context import Info
from gbrec_graphql.experiments.types import (
    EventInput,
    Experiment,
    ExperimentInput,
    RecordEventsResult,
)
from gbrec_graphql.fields import mutation
from gbrec_graphql.guard import admin_action, events_action
from gbrec_graphql.services import Services

MAX_EVENTS = 1000
log = logging.getLogger(__name__)


async def _admin_experiment(
    info: Info, operation: str, arguments: dict[str, Any], call: Callable[[], core.Experiment]
) -> Experiment:
    async def action() -> core.Experiment:
        return await asyncio.to_thread(call)

    done = await admin_action(
        info.context,
        operation=operation,
        arguments=arguments,
        action=action,
        summary=core.Experiment.summary,
    )
    return Experiment.from_domain(done)


def preload(services: Services, model: str) -> ModelVersionInfo:
    """Resolve a variant's model in the registry and make it resident in this process.

    Every arm must be servable before the experiment starts (otherwise BAD_USER_INPUT
    naming the variant), and loading it now keeps its first requests fast. Resolving
    first keeps a mistyped name from counting as a server load failure.
    """
    return services.server.ensure_version(services.registry.resolve(model))


@strawberry.type
class ExperimentMutations:
    @mutation(description="Create and start an experiment.")
    async def create_experiment(self, info: Info, input: ExperimentInput) -> Experiment:
        services = info.context.services
        return await _admin_experiment(
            info,
            "createExperiment",
            input.summary(),
            lambda: services.experiments.create(
                input.to_domain(), resolve_model=lambda model: preload(services, model)
            ),
        )

    @mutation(description="Move a STAGED experiment to its next coverage stage.")
    async def advance_experiment(self, info: Info, id: str) -> Experiment:
        service = info.context.services.experiments
        return await _admin_experiment(
            info, "advanceExperiment", {"id": id}, lambda: service.advance(id)
        )

    @mutation(description="Stop an experiment; its users return to the champion.")
    async def stop_experiment(self, info: Info, id: str) -> Experiment:
        service = info.context.services.experiments
        return await _admin_experiment(info, "stopExperiment", {"id": id}, lambda: service.stop(id))

    @mutation(description="Record impressions, clicks, ratings, satisfaction (events scope).")
    async def record_events(self, info: Info, events: list[EventInput]) -> RecordEventsResult:
        if len(events) > MAX_EVENTS:
            raise InvalidInputError(f"at most {MAX_EVENTS} events per call, got {len(events)}")
        services = info.context.services

        async def action() -> RecordEventsResult:
            batch = [e.to_domain() for e in events]
            result = await asyncio.to_thread(services.experiments.record_events, batch)
            await services.service.attribute_feedback(batch)
            return RecordEventsResult.from_domain(result)

        return await events_action(info.context, action)
