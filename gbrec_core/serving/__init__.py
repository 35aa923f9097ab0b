"""Live model serving: hot-swapped registry versions behind recommend() and similar()."""

from __future__ import annotations

from gbrec_core.serving.fallback import PopularityFallback
from gbrec_core.serving.loader import LoadedVersion
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.similar import VectorSearch
from gbrec_core.serving.types import FALLBACK_VERSION, Recommendation

__all__ = [
    "FALLBACK_VERSION",
    "LoadedVersion",
    "ModelServer",
    "PopularityFallback",
    "Recommendation",
    "VectorSearch",
]
