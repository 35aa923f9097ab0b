"""What the index manager reports about the vector index behind similar-book search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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

    def summary(self) -> dict[str, Any]:
        """What the audit trail records as a rebuild's outcome."""
        return {
            "modelVersion": self.version,
            "vectors": self.vectors,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def of(cls, stats: dict[str, Any], vectors: int, **fields: Any) -> IndexBuildInfo:
        """An install's record from the installed search's ``stats()`` and ``fields``."""
        meta = stats.get("meta") or {}
        return cls(
            kind=str(stats.get("kind")),
            shards=int(stats.get("shards", 1)),
            vectors=vectors,
            dim=int(stats["dim"]),
            at=datetime.now(UTC),
            built_by=str(meta.get("built_by", "pipeline")),
            **fields,
        )


def serving_stats(stats: dict[str, Any], info: IndexBuildInfo) -> dict[str, Any]:
    """The manager's ``stats()``: the search's own, with the install's state on top; a
    remote backend (Milvus) that does not answer makes the index degraded."""
    backend_ok = bool(stats.get("backend_healthy", True))
    return {
        **stats,
        "healthy": info.state == HEALTHY and backend_ok,
        "state": info.state if backend_ok else DEGRADED,
        "model_version": info.version,
        "vector_source": info.vector_source,
        "built_by": info.built_by,
        "error": info.error or stats.get("backend_error"),
    }


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
    #: Recall@10 the search parameter was tuned for, what the build measured (the worst
    #: shard), and the chosen parameter (``ef_search=20``); None for exact kinds.
    target_recall: float | None = None
    measured_recall: float | None = None
    search_parameter: str | None = None
    #: Milvus backend: health probe, its round trip, searches it answered, searches the
    #: local files answered because it could not (None/0 for the local backends).
    backend_healthy: bool | None = None
    backend_latency_ms: float | None = None
    backend_queries: int = 0
    backend_fallbacks: int = 0
    #: Index folders refused because their signature was missing or wrong.
    signature_failures: int = 0

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
            state=str(stats.get("state", info.state)) if info else NONE,
            built_by=info.built_by if info else None,
            rebuilding=bool(stats.get("rebuilding", False)),
            error=stats.get("error", info.error) if info else stats.get("error"),
            **_tuning_fields(stats.get("tuning")),
            backend_healthy=stats.get("backend_healthy"),
            backend_latency_ms=stats.get("backend_latency_ms"),
            backend_queries=int(stats.get("backend_queries", 0)),
            backend_fallbacks=int(stats.get("backend_fallbacks", 0)),
            signature_failures=int(stats.get("signature_failures", 0)),
        )


def _tuning_fields(tuning: Any) -> dict[str, Any]:
    if not isinstance(tuning, dict):
        return {}
    return {
        "target_recall": float(tuning["target_recall"]),
        "measured_recall": float(tuning["measured_recall"]),
        "search_parameter": f"{tuning['parameter']}={tuning['value']}",
    }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
