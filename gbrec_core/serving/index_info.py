"""What the index manager reports about the vector index behind similar-book search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

HEALTHY, DEGRADED, NONE = "healthy", "degraded", "none"


@dataclass(frozen=True)
class IndexBuildInfo:
    version: str
    kind: str
    shards: int
    vectors: int
    dim: int
    seconds: float
    loaded_from_disk: bool
    path: Path
    at: datetime
    #: Which model's vectors are indexed: ``v<N>`` (the version's own) or ``als_model``.
    vector_source: str | None = None
    #: "pipeline" (the vector_index asset wrote the index) or "api" (this process built it).
    built_by: str = "pipeline"
    state: str = HEALTHY
    error: str | None = None


@dataclass(frozen=True)
class VectorIndexStatus:
    """The index as a client sees it: backend, size, latency, health (``state``:
    healthy; degraded, exact search while it is rebuilt; none, the model answers)."""

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
    vector_source: str | None
    state: str
    built_by: str | None
    rebuilding: bool
    error: str | None

    @classmethod
    def of(
        cls, backend: str, stats: dict[str, Any], info: IndexBuildInfo | None
    ) -> VectorIndexStatus:
        """From the manager's ``stats()`` and its last build (None: no index)."""
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
            state=info.state if info else NONE,
            built_by=info.built_by if info else None,
            rebuilding=bool(stats.get("rebuilding", False)),
            error=info.error if info else stats.get("error"),
        )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
