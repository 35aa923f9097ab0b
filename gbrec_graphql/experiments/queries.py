"""Queries of the experiments domain."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.delivery.status import delivery_status
from gbrec_core.errors import NotFoundError
from gbrec_core.experiments import types as core
from gbrec_core.paging import page_size, with_next
from gbrec_graphql.connections import Connection, connection
from gbrec_graphql.context import Info
from gbrec_graphql.experiments.delivery import DeliveryStatus
from gbrec_graphql.experiments.types import Experiment, ExperimentStatus
from gbrec_graphql.fields import field


@strawberry.type
class ExperimentQueries:
    @field(description="An experiment by id; null when it does not exist.")
    async def experiment(self, info: Info, id: str) -> Experiment | None:
        await info.context.check_read()
        try:
            found = await asyncio.to_thread(info.context.services.experiments.get, id)
        except NotFoundError:
            return None
        return Experiment.from_domain(found)

    @field(description="Experiments, optionally by status; `first`/`after` page them.")
    async def experiments(
        self,
        info: Info,
        status: ExperimentStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> list[Experiment]:
        await info.context.check_read()
        wanted = core.ExperimentStatus(status) if status is not None else None
        service = info.context.services.experiments
        page = await asyncio.to_thread(service.find, wanted, first=page_size(first), after=after)
        return [Experiment.from_domain(e) for e in page]

    @field(
        description="`experiments` as a Relay connection: edges with cursors, nodes and "
        "pageInfo (`first` 50 by default, at most 500; `after` = an endCursor)."
    )
    async def experiments_connection(
        self,
        info: Info,
        status: ExperimentStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Experiment]:
        await info.context.check_read()
        wanted = core.ExperimentStatus(status) if status is not None else None
        service = info.context.services.experiments

        def fetch(size: int, cursor: str | None) -> list[core.Experiment]:
            return service.find(wanted, first=size, after=cursor)

        page, more = await asyncio.to_thread(with_next, fetch, first=first, after=after)
        return connection([Experiment.from_domain(e) for e in page], lambda e: e.id, more)

    @field(
        description="Model delivery: champion and challenger versions (registry aliases), "
        "the running challenger-v<N> experiment, the mode and the last decision."
    )
    async def delivery_status(self, info: Info) -> DeliveryStatus:
        await info.context.check_read()
        stack = info.context.services.stack
        found = await asyncio.to_thread(
            delivery_status, stack.registry, stack.experiments, stack.redis
        )
        return DeliveryStatus.from_domain(found)
