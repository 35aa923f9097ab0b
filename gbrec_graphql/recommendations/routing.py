"""Experiment routing for a recommendations request: assignment and exposure logging.

Routing must never take recommendations down with it: when Redis is unreachable the
champion answers (the response then carries no experiment id), the failure is logged
and counted. An experiment id that does not exist is the caller's mistake (NOT_FOUND).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import redis

from gbrec_core.errors import InvalidInputError, UnavailableError
from gbrec_core.experiments import Route as CoreRoute
from gbrec_graphql.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    experiment_id: str
    variant: str
    model: str
    analysed: bool = True


async def route(
    services: Services, experiment_id: str | None, user_id: int, attributes: Any
) -> Route | None:
    """The variant serving ``user_id`` in ``experiment_id``, or None for the champion."""
    if not experiment_id:
        return None
    if attributes is not None and not isinstance(attributes, dict):
        raise InvalidInputError("attributes must be a JSON object")
    decision: CoreRoute | None = None
    try:
        # route() never raises on a Redis outage; it says "fallback" and we serve the champion.
        decision = await asyncio.to_thread(
            services.experiments.route, experiment_id, user_id, attributes
        )
        reason = decision.reason
    except (UnavailableError, redis.RedisError, OSError) as e:
        reason = str(e)
    if decision is None or decision.fallback:
        services.metrics.experiment_errors.inc()
        log.warning("experiment %s routing failed, serving the champion: %s", experiment_id, reason)
        return None
    assignment = decision.assignment
    if assignment is None:
        return None
    return Route(experiment_id, assignment.variant, assignment.model, assignment.in_experiment)


async def record_exposure(
    services: Services, chosen: Route, user_id: int, request_id: str, book_ids: list[int]
) -> None:
    if not chosen.analysed:  # forced or finished-experiment traffic is served, not counted
        return
    try:
        await asyncio.to_thread(
            services.experiments.record_exposure,
            chosen.experiment_id,
            chosen.variant,
            user_id,
            request_id,
            book_ids,
        )
    except (UnavailableError, redis.RedisError, OSError) as e:
        services.metrics.experiment_errors.inc()
        log.warning("exposure of %s in %s not recorded: %s", request_id, chosen.experiment_id, e)
