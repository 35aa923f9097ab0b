"""Last-resort popularity ranking over the catalogue, used when no model can be loaded."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from gbrec_core.access.signing import Signer
from gbrec_core.errors import ModelLoadError, SignatureError
from gbrec_core.registry.bundle import read_fallback

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class PopularityFallback:
    """Book ids sorted best first, with their scores in [0, 1]."""

    book_ids: np.ndarray
    scores: np.ndarray

    def top(self, k: int) -> tuple[list[int], list[float]]:
        return self.book_ids[:k].tolist(), self.scores[:k].astype(float).tolist()

    @classmethod
    def from_books(cls, books: pd.DataFrame) -> PopularityFallback:
        """Rank by ``ratings_count`` when the catalogue has it, else by ``book_id``."""
        ids = books["book_id"].to_numpy(dtype=np.int64)
        if "ratings_count" in books:
            counts = books["ratings_count"].fillna(0).to_numpy(dtype=np.float64)
        else:
            counts = np.zeros(len(ids))
        order = np.lexsort((ids, -counts))
        scores = counts / max(float(counts.max(initial=0.0)), 1.0)
        return cls(ids[order], scores[order].astype(np.float32))

    @classmethod
    def from_bundle_dir(cls, path: Path, signer: Signer) -> PopularityFallback | None:
        """The ranking of a cached bundle, verified; None (logged) when it may not be used."""
        try:
            ids, scores = read_fallback(path, signer)
        except (ModelLoadError, SignatureError) as e:
            log.warning("no cached popularity fallback at %s: %s", path, e)
            return None
        return cls(ids.astype(np.int64), scores.astype(np.float32))
