"""Hybrid: a collaborative model blended with the content model.

``score = (1 - w) * z(cf) + w * z(content)``, where ``z`` standardises each user's
scores over the catalogue (mean 0, std 1) so the two scales are comparable. With
``weight=None`` (default) ``w`` is chosen on an internal validation split of the
*training* data: the last ``validation_fraction`` of each user's ratings (file
order = time) become validation positives (rating >= 4), both parts are fitted on
the rest, ``w`` maximises NDCG@10 over ``weight_grid`` on a sample of users, and
both parts are refitted on all training data. Without content features ``w = 0``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation.metrics import hit_matrix, ranking_metrics
from gbrec_core.models.als import ALSRecommender
from gbrec_core.models.base import ItemVectors, Recommender, top_k
from gbrec_core.models.content import ContentRecommender
from gbrec_core.models.ease import EASERecommender

log = logging.getLogger(__name__)

DEFAULT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    cf: Literal["als", "ease"] = "ease"
    cf_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    content_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    weight: float | None = None
    weight_grid: tuple[float, ...] = DEFAULT_GRID
    validation_fraction: float = 0.2
    validation_users: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.cf not in ("als", "ease"):
            raise InvalidInputError(f"hybrid cf must be 'als' or 'ease', got {self.cf!r}")
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:
            raise InvalidInputError(f"weight must be in [0, 1], got {self.weight}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise InvalidInputError("validation_fraction must be in (0, 1)")
        object.__setattr__(self, "weight_grid", tuple(float(w) for w in self.weight_grid))


class HybridRecommender(Recommender):
    name: ClassVar[str] = "hybrid"

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = HybridConfig(**config)
        self.weight = self.config.weight if self.config.weight is not None else 0.0
        self.cf = self._new_cf()
        self.content = ContentRecommender(**self.config.content_config)

    def _new_cf(self) -> Recommender:
        cls = ALSRecommender if self.config.cf == "als" else EASERecommender
        return cls(**self.config.cf_config)

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        self.content.fit(ratings, books)
        if not self.content.has_features:
            self.weight = 0.0
        elif self.config.weight is None:
            self.weight = self._choose_weight(ratings, books)
        if self.weight < 1.0:
            self.cf.fit(ratings, books)
        log.info("hybrid weight on content: %.2f", self.weight)

    def _choose_weight(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> float:
        inner, held = holdout_last(ratings, self.config.validation_fraction)
        users = np.unique(held["user_id"].to_numpy())
        rng = np.random.default_rng(self.config.seed)
        if users.shape[0] > self.config.validation_users:
            users = np.sort(rng.choice(users, self.config.validation_users, replace=False))
        cf = self._new_cf().fit(inner, books)
        content = ContentRecommender(**self.config.content_config).fit(inner, books)
        held = held[held["user_id"].isin(users)]
        pos = np.searchsorted(users, held["user_id"].to_numpy())
        n_relevant = np.bincount(pos, minlength=users.shape[0])
        keep = n_relevant > 0
        idx = cf._require_fitted()[0].index_of(users)
        z_cf, z_content = _standardise(cf._scores_for(idx)), _standardise(content._scores_for(idx))
        item_ids = cf._require_fitted()[1].ids
        best, best_ndcg = 0.0, -1.0
        for w in self.config.weight_grid:
            blended = (1.0 - w) * z_cf + w * z_content
            cf._mask_seen(blended, idx)
            top, _ = top_k(blended, 10)
            rec = np.where(top >= 0, item_ids[np.maximum(top, 0)], -1)
            hits = hit_matrix(rec, pos, held["book_id"].to_numpy())
            ndcg = ranking_metrics(hits[keep], n_relevant[keep], 10)["ndcg"]
            log.info("hybrid validation: w=%.2f ndcg@10=%.4f", w, ndcg)
            if ndcg > best_ndcg + 1e-9:
                best, best_ndcg = w, ndcg
        return best

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        if self.weight >= 1.0:
            return _standardise(self.content._score_known(user_idx))
        cf = _standardise(self.cf._score_known(user_idx))
        if self.weight <= 0.0:
            return cf
        return (1.0 - self.weight) * cf + self.weight * _standardise(
            self.content._score_known(user_idx)
        )

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        part = self.content if self.weight >= 0.5 or not self.cf.is_fitted else self.cf
        return part._item_similarity(item_idx)

    def item_vectors(self) -> ItemVectors | None:
        return self.cf.item_vectors() if self.cf.is_fitted else None

    def user_vectors(self, user_ids: np.ndarray) -> np.ndarray | None:
        return self.cf.user_vectors(user_ids) if self.cf.is_fitted else None

    def config_dict(self) -> dict[str, Any]:
        config = dataclasses.asdict(self.config)
        config["weight_grid"] = list(config["weight_grid"])
        return config

    def _state(self) -> dict[str, np.ndarray]:
        state = {"weight": np.asarray([self.weight], dtype=np.float64)}
        for prefix, part in (("cf", self.cf), ("content", self.content)):
            if part.is_fitted:
                state.update({f"{prefix}.{k}": v for k, v in part._state().items()})
        return state

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        self.weight = float(state["weight"][0])
        for prefix, part in (("cf", self.cf), ("content", self.content)):
            part_state = {
                k.removeprefix(f"{prefix}."): v
                for k, v in state.items()
                if k.startswith(f"{prefix}.")
            }
            if part_state:
                part.users, part.items = self.users, self.items
                part.seen, part.popularity = self.seen, self.popularity
                part._restore(part_state)

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> Self:
        return cls(**config)


def _standardise(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    standard: np.ndarray = ((scores - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
    return standard


def holdout_last(
    ratings: pd.DataFrame, fraction: float, positive: int = 4
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, the last ``fraction`` of ratings in file order; held-out keeps positives."""
    position = ratings.groupby("user_id", sort=False).cumcount().to_numpy()
    sizes = ratings.groupby("user_id", sort=False)["user_id"].transform("size").to_numpy()
    cut = sizes - np.floor(sizes * fraction).astype(np.int64)
    is_held = position >= cut
    held = ratings[is_held]
    return ratings[~is_held], held[held["rating"] >= positive]
