"""What the API's index manager reports about the index it serves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HEALTHY, DEGRADED = "healthy", "degraded"


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
    #: "pipeline" (the vector_index asset wrote the index) or "api" (this API built it).
    built_by: str = "pipeline"
    state: str = HEALTHY
    error: str | None = None
