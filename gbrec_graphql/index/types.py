"""GraphQL types of the vector-index domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gbrec_graphql.index.info import IndexBuildInfo


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
    def from_domain(
        cls, backend: str, stats: dict[str, Any], info: IndexBuildInfo | None
    ) -> VectorIndexStats:
        latency = stats.get("latency") or {}
        return cls(
            available=info is not None,
            backend=backend,
            kind=stats.get("kind"),
            shards=int(stats.get("shards", info.shards if info else 0) or 0),
            vectors=int(stats.get("vectors", 0) or 0),
            dim=stats.get("dim"),
            memory_bytes=_int(stats.get("bytes", stats.get("memory_bytes"))),
            latency_p50_ms=latency.get("p50_ms"),
            latency_p99_ms=latency.get("p99_ms"),
            searches=int(stats.get("searches", 0) or 0),
            model_version=info.version if info else None,
            vector_source=info.vector_source if info else None,
            state=info.state if info else "none",
            built_by=info.built_by if info else None,
            rebuilding=bool(stats.get("rebuilding", False)),
            error=info.error if info else stats.get("error"),
        )


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


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
