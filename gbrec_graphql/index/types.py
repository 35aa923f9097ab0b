"""GraphQL types of the vector-index domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gbrec_graphql.index.manager import IndexBuildInfo


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
        )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
