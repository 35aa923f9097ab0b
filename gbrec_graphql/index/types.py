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
    target_recall: float | None = strawberry.field(
        description="Recall@10 the search parameter was tuned for (GBREC_INDEX_TARGET_RECALL)."
    )
    measured_recall: float | None = strawberry.field(
        description="Recall@10 against exact search measured at build time (worst shard)."
    )
    search_parameter: str | None = strawberry.field(
        description="The tuned search parameter, e.g. ef_search=20; null for exact kinds."
    )
    backend_healthy: bool | None = strawberry.field(
        description="Milvus backend: whether it answers (null for local backends)."
    )
    backend_latency_ms: float | None = strawberry.field(
        description="Milvus backend: round trip of a health probe, in milliseconds."
    )
    backend_queries: int = strawberry.field(
        description="Milvus backend: similar-book searches Milvus answered."
    )
    backend_fallbacks: int = strawberry.field(
        description="Milvus backend: searches the local index answered because Milvus could not."
    )
    signature_failures: int = strawberry.field(
        description="Index folders refused because their signature was missing or wrong."
    )

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
