"""Queries of the models domain."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.paging import page_size, with_next
from gbrec_core.registry import ModelVersionInfo
from gbrec_graphql.connections import Connection, connection
from gbrec_graphql.context import Info
from gbrec_graphql.fields import field
from gbrec_graphql.models.types import ModelVersion


@strawberry.type
class ModelQueries:
    @field(description="Registry versions with aliases and metrics, newest first.")
    async def model_versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> list[ModelVersion]:
        await info.context.check_read()
        # MLflow's client is synchronous and does I/O: keep it off the event loop.
        registry = info.context.services.registry
        page = await asyncio.to_thread(registry.versions, first=page_size(first), after=after)
        return [ModelVersion.from_domain(v) for v in page]

    @field(
        description="`modelVersions` as a Relay connection: edges with cursors, nodes and "
        "pageInfo (`first` 50 by default, at most 500; `after` = an endCursor)."
    )
    async def model_versions_connection(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ModelVersion]:
        await info.context.check_read()
        registry = info.context.services.registry

        def fetch(size: int, cursor: str | None) -> list[ModelVersionInfo]:
            return registry.versions(first=size, after=cursor)

        page, more = await asyncio.to_thread(with_next, fetch, first=first, after=after)
        versions = [ModelVersion.from_domain(v) for v in page]
        return connection(versions, lambda v: v.version, more)

    @field(description="The version this API process serves right now.")
    async def serving_model(self, info: Info) -> ModelVersion:
        await info.context.check_read()
        return ModelVersion.from_domain(info.context.services.server.serving_version())
