"""Live model serving: hot-swapped registry versions behind recommend() and similar().

The recommendation service every entry point answers through lives in
:mod:`gbrec_core.serving.service` (built from settings by :mod:`gbrec_core.serving.stack`);
it is not re-exported here, so that importing the server stays light.
"""

from __future__ import annotations

from gbrec_core.serving.catalog import BookCatalog, BookRecord
from gbrec_core.serving.fallback import PopularityFallback
from gbrec_core.serving.loader import LoadedVersion
from gbrec_core.serving.observer import CountingObserver, ServingObserver
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.similar import VectorSearch
from gbrec_core.serving.types import FALLBACK_VERSION, Recommendation

__all__ = [
    "FALLBACK_VERSION",
    "BookCatalog",
    "BookRecord",
    "CountingObserver",
    "LoadedVersion",
    "ModelServer",
    "PopularityFallback",
    "Recommendation",
    "ServingObserver",
    "VectorSearch",
]
