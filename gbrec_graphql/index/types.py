"""GraphQL types of the vector-index domain."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import strawberry

from gbrec_core.serving.index_info import IndexBuildInfo, VectorIndexStatus


@strawberry.type(description="The vector index behind similarBooks.")
class VectorIndexStats:
    available: bool
    backend: str
    kind: str | None
    shards: int
    vectors: int
    dim: int | None
    memory_bytes: int | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    searches: int
    model_version: str | None
    vector_source: str | None = strawberry.field(
        description="Whose item vectors are indexed: v<N> (the version's own) or als_model."
    )
    state: str = strawberry.field(
        description="healthy; degraded (exact search over the stored vectors while the "
        "index is rebuilt); none (similarBooks comes from the model)."
    )
    built_by: str | None = strawberry.field(
        description="pipeline (the vector_index asset) or api (built by this API)."
    )
    rebuilding: bool
    error: str | None

    @classmethod
    def from_domain(cls, status: VectorIndexStatus) -> VectorIndexStats:
        return cls(**dataclasses.asdict(status))


@strawberry.type(description="The outcome of rebuildVectorIndex.")
class IndexBuild:
    model_version: str
    kind: str
    shards: int
    vectors: int
    dim: int
    seconds: float
    at: datetime
    vector_source: str | None

    @classmethod
    def from_domain(cls, info: IndexBuildInfo) -> IndexBuild:
        return cls(
            model_version=info.version,
            kind=info.kind,
            shards=info.shards,
            vectors=info.vectors,
            dim=info.dim,
            seconds=info.seconds,
            at=info.at,
            vector_source=info.vector_source,
        )
