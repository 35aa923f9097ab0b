"""Mutations of the vector-index domain (admin scope, audited)."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.serving.index_info import IndexBuildInfo
from gbrec_graphql.context import Info
from gbrec_graphql.fields import mutation
from gbrec_graphql.guard import admin_action
from gbrec_graphql.index.types import IndexBuild


@strawberry.type
class IndexMutations:
    @mutation(
        description=(
            "Rebuild the serving version's index (all shards, pipeline layout) from its "
            "stored item vectors, or the bundle's when none are stored."
        )
    )
    async def rebuild_vector_index(self, info: Info) -> IndexBuild:
        services = info.context.services

        async def action() -> IndexBuildInfo:
            async with services.index_lock:
                return await asyncio.to_thread(services.indexes.rebuild)

        built = await admin_action(
            info.context,
            operation="rebuildVectorIndex",
            arguments={},
            action=action,
            summary=IndexBuildInfo.summary,
        )
        return IndexBuild.from_domain(built)
