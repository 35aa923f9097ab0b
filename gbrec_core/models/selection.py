"""Model selection on an internal, temporal validation split of the training data.

Only a sample of users is validated: the last ``fraction`` of *their* ratings (file
order = time) is held out, everyone else keeps all their ratings. Models fitted on
the remaining ``inner`` ratings therefore see ~98% of the training data, so an
ensemble can keep them as its final parts instead of refitting (the validation
users' histories are restored at scoring time; see ``hybrid``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.models.base import IdMap, csr_rows, interactions, top_k
from gbrec_core.models.metrics import hit_matrix, per_user_metrics


@dataclasses.dataclass(frozen=True)
class ValidationSplit:
    """Inner training data and held-out positives of the sampled validation users."""

    inner: pd.DataFrame
    seen: sp.csr_matrix  # ``inner`` in the full model's index space
    user_idx: np.ndarray  # dense indices of the validated users (sorted)
    rows: np.ndarray  # each held-out positive: its row in ``user_idx`` ...
    items: np.ndarray  # ... and its dense item index
    k: int = 10

    @property
    def n_relevant(self) -> np.ndarray:
        return np.bincount(self.rows, minlength=self.user_idx.shape[0])

    def ndcg_per_user(self, scores: np.ndarray) -> np.ndarray:
        """NDCG@k per validated user of dense scores (rows = ``user_idx``), inner history
        excluded. ``scores`` is left as given (masked cells are restored)."""
        mask_rows, mask_cols = csr_rows(self.seen, self.user_idx)
        kept = scores[mask_rows, mask_cols].copy()
        scores[mask_rows, mask_cols] = -np.inf
        try:
            top, _ = top_k(scores, self.k)
        finally:
            scores[mask_rows, mask_cols] = kept
        hits = hit_matrix(top, self.rows, self.items)
        return per_user_metrics(hits, self.n_relevant, self.k)["ndcg"]

    def ndcg(self, scores: np.ndarray) -> float:
        return float(self.ndcg_per_user(scores).mean())


def validation_split(
    ratings: pd.DataFrame,
    users: IdMap,
    items: IdMap,
    fraction: float,
    n_users: int,
    seed: int,
    positive: int = 4,
) -> ValidationSplit | None:
    """Hold out the last ``fraction`` of ``n_users`` sampled users' ratings; ``None`` when
    no sampled user has a held-out positive (too little data to validate on)."""
    user_idx = users.index_of(ratings["user_id"].to_numpy())
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(users), dtype=bool)
    chosen[rng.choice(len(users), min(n_users, len(users)), replace=False)] = True
    in_sample = chosen[user_idx]
    sample = ratings[in_sample]
    position = sample.groupby("user_id", sort=False).cumcount().to_numpy()
    sizes = sample.groupby("user_id", sort=False)["user_id"].transform("size").to_numpy()
    is_held = np.zeros(len(ratings), dtype=bool)
    is_held[np.flatnonzero(in_sample)] = position >= sizes - np.floor(sizes * fraction)
    held = is_held & (ratings["rating"].to_numpy() >= positive)
    if not held.any():
        return None
    inner = ratings[~is_held]
    validated = np.unique(user_idx[held])
    return ValidationSplit(
        inner=inner,
        seen=interactions(inner, users, items),
        user_idx=validated,
        rows=np.searchsorted(validated, user_idx[held]),
        items=items.index_of(ratings["book_id"].to_numpy()[held]),
    )


def standardise(scores: np.ndarray) -> np.ndarray:
    """Per-row z-scores (mean 0, std 1), so different models' scales are comparable."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    standard: np.ndarray = ((scores - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
    return standard


def blend(parts: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of equally shaped score matrices (zero weights skipped)."""
    out = np.zeros_like(parts[0])
    for part, weight in zip(parts, weights, strict=True):
        if weight:
            out += np.float32(weight) * part
    return out


def choose_weights(
    split: ValidationSplit, parts: Sequence[np.ndarray], grid: Sequence[float]
) -> tuple[list[float], float]:
    """Greedy forward blending: each further part joins with the grid weight that
    maximises validation NDCG (weight 0 always a candidate, so the blend is never
    worse on validation than the best single part, which comes first). Parts come
    sorted by their own NDCG, so weight 1 (a later part alone) is not worth a try."""
    weights = [1.0] + [0.0] * (len(parts) - 1)
    best = split.ndcg(parts[0])
    for j in range(1, len(parts)):
        current = list(weights)
        for w in grid:
            if not 0.0 < w < 1.0:
                continue
            trial = [x * (1.0 - w) for x in current]
            trial[j] = w
            ndcg = split.ndcg(blend(parts, trial))
            if ndcg > best + 1e-9:
                best, weights = ndcg, [round(x, 6) for x in trial]
    return weights, best
