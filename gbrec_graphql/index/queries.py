"""Queries of the vector-index domain."""

from __future__ import annotations

import strawberry

from gbrec_graphql.context import Info
from gbrec_graphql.fields import field
from gbrec_graphql.index.types import VectorIndexStats


@strawberry.type
class IndexQueries:
    @field(
        description=(
            "Backend, kind, shards, vectors, memory, search latency, model version and "
            "vector source of the index behind similarBooks, and its health."
        )
    )
    async def vector_index(self, info: Info) -> VectorIndexStats:
        await info.context.check_read()
        return VectorIndexStats.from_domain(info.context.services.indexes.status())
