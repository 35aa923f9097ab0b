"""Hybrid: an ensemble of EASE, ALS, content and popularity, selected on validation.

``score = sum_j w_j * z(score_j)``, where ``z`` standardises each user's scores over
the catalogue. With ``weight=None`` (default) everything is chosen on an internal
temporal validation split of the *training* data (see ``selection``): EASE's lambda
on a grid relative to the mean item degree, ALS among ``als_candidates`` (one is
implicit's library default), then the parts are blended greedily, best first, each
joining with the grid weight that maximises validation NDCG@10 (weight 0 always
allowed). So on validation the ensemble is at least as good as its best part.
Parts are fitted once, on the training data minus the validation users' held-out
tail; at the end they score with the full history (ALS re-solves those users'
factors), so there is no second fit. ``weight=w`` keeps the old fixed blend
``(1 - w) * z(cf) + w * z(content)`` without validation.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError, ModelLoadError
from gbrec_core.models.als import ALSRecommender
from gbrec_core.models.base import ItemVectors, Recommender
from gbrec_core.models.content import ContentRecommender
from gbrec_core.models.ease import EASERecommender, ease_grid, mean_item_degree
from gbrec_core.models.popularity import PopularityRecommender
from gbrec_core.models.selection import (
    ValidationSplit,
    choose_weights,
    standardise,
    validation_split,
)

log = logging.getLogger(__name__)

DEFAULT_GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
# Popularity is a part too: on some data (series, steep popularity) it beats CF.
FAMILIES = ("ease", "als", "content", "popularity")
# implicit's library defaults (ratings as confidences, alpha 1, regularisation 0.01):
# always a candidate, so validation can only move away from it by measured gains.
IMPLICIT_DEFAULTS: dict[str, Any] = {"confidence": "raw", "alpha": 1.0, "regularization": 0.01}
_CLASSES: dict[str, type[Recommender]] = {
    "ease": EASERecommender,
    "als": ALSRecommender,
    "content": ContentRecommender,
    "popularity": PopularityRecommender,
}


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    """``cf``/``cf_config``: the CF part of a fixed blend (and its config in the ensemble);
    ``parts``: ensemble candidates; ``l2_grid``: EASE lambdas as multiples of the mean
    item degree, tried upwards while validation NDCG improves."""

    cf: Literal["als", "ease"] = "ease"
    cf_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    content_config: dict[str, Any] = dataclasses.field(default_factory=dict)
    weight: float | None = None
    weight_grid: tuple[float, ...] = DEFAULT_GRID
    validation_fraction: float = 0.2
    validation_users: int = 5000
    seed: int = 0
    parts: tuple[str, ...] = FAMILIES
    l2_grid: tuple[float, ...] = (2.0, 8.0, 32.0)
    als_candidates: tuple[dict[str, Any], ...] = ({}, IMPLICIT_DEFAULTS)

    def __post_init__(self) -> None:
        if self.cf not in ("als", "ease"):
            raise InvalidInputError(f"hybrid cf must be 'als' or 'ease', got {self.cf!r}")
        if self.weight is not None and not 0.0 <= self.weight <= 1.0:
            raise InvalidInputError(f"weight must be in [0, 1], got {self.weight}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise InvalidInputError("validation_fraction must be in (0, 1)")
        unknown = set(self.parts) - set(FAMILIES)
        if unknown or not self.parts:
            raise InvalidInputError(f"hybrid parts must be among {FAMILIES}, got {self.parts}")
        if not self.l2_grid or min(self.l2_grid) <= 0 or not self.als_candidates:
            raise InvalidInputError("l2_grid must be positive and als_candidates non-empty")
        for name in ("weight_grid", "l2_grid"):
            object.__setattr__(self, name, tuple(float(w) for w in getattr(self, name)))
        object.__setattr__(self, "parts", tuple(self.parts))
        object.__setattr__(self, "als_candidates", tuple(dict(c) for c in self.als_candidates))


class HybridRecommender(Recommender):
    name: ClassVar[str] = "hybrid"

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.config = HybridConfig(**config)
        self.mix: dict[str, float] = {}
        self.chosen: dict[str, dict[str, Any]] = {}
        self.components: dict[str, Recommender] = {}

    @property
    def weight(self) -> float:
        """Weight of the content part (0 when content is not in the blend)."""
        return self.mix.get("content", 0.0)

    def part_config(self, family: str) -> dict[str, Any]:
        if family == "content":
            return dict(self.config.content_config)
        return dict(self.config.cf_config) if family == self.config.cf else {}

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        assert self.users is not None and self.items is not None and self.seen is not None
        self.mix, self.chosen, self.components = {}, {}, {}
        split = None
        if self.config.weight is None:
            split = validation_split(
                ratings,
                self.users,
                self.items,
                self.config.validation_fraction,
                self.config.validation_users,
                self.config.seed,
            )
        if split is None:
            self._fit_fixed(ratings, books)
        else:
            self._fit_validated(split, books)
        log.info("hybrid blend: %s (configs %s)", self.mix, self.chosen)

    def _fit_fixed(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        """The fixed blend of ``cf`` and content (also the fallback without validation data)."""
        assert self.users is not None and self.items is not None and self.seen is not None
        w = self.config.weight or 0.0
        content = ContentRecommender(**self.config.content_config)
        if w > 0.0:
            content._fit_on(self.users, self.items, self.seen, ratings, books)
            w = w if content.has_features else 0.0
        for family, share in ((self.config.cf, 1.0 - w), ("content", w)):
            if share > 0.0:
                part: Recommender = content if family == "content" else self._new(family, {})
                if not part.is_fitted:
                    part._fit_on(self.users, self.items, self.seen, ratings, books)
                self._keep(family, part, share, self.part_config(family))

    def _fit_validated(self, split: ValidationSplit, books: pd.DataFrame | None) -> None:
        found: list[tuple[float, str, Recommender, dict[str, Any], np.ndarray]] = []
        for family in self.config.parts:
            best = self._best_of(family, split, books)
            if best is not None:
                found.append((best[0], family, *best[1:]))
        found.sort(key=lambda entry: -entry[0])
        grid = [w for w in self.config.weight_grid if w > 0.0]
        start = time.perf_counter()
        weights, ndcg = choose_weights(split, [entry[4] for entry in found], grid)
        log.info(
            "hybrid validation: blend ndcg@10=%.4f weights=%s (%.1f s)",
            ndcg,
            weights,
            time.perf_counter() - start,
        )
        for (_, family, part, config, _), share in zip(found, weights, strict=True):
            if share > 0.0:
                self._keep(family, part, share, config)
                if isinstance(part, ALSRecommender):
                    part.refresh_users(split.user_idx)

    def _best_of(
        self, family: str, split: ValidationSplit, books: pd.DataFrame | None
    ) -> tuple[float, Recommender, dict[str, Any], np.ndarray] | None:
        """The family's best candidate on validation: (ndcg, model, config, z-scores)."""
        assert self.users is not None and self.items is not None
        best: tuple[float, Recommender, dict[str, Any], np.ndarray] | None = None
        start = time.perf_counter()
        for config, model in self._candidates(family, split, books):
            if isinstance(model, ContentRecommender) and not model.has_features:
                return None
            z = standardise(model._score_known(split.user_idx))
            ndcg = split.ndcg(z)
            log.info(
                "hybrid validation: %s %s ndcg@10=%.4f (%.1f s)",
                family,
                config,
                ndcg,
                time.perf_counter() - start,
            )
            start = time.perf_counter()
            if best is not None and ndcg <= best[0]:
                if family == "ease":
                    break  # lambdas go upwards; NDCG is unimodal in lambda in practice
                continue
            best = (ndcg, model, config, z)
        return best

    def _candidates(self, family: str, split: ValidationSplit, books: pd.DataFrame | None) -> Any:
        assert self.users is not None and self.items is not None
        base = self.part_config(family)
        if family == "ease":
            l2s = (
                [base["l2"]]
                if "l2" in base
                else [m * mean_item_degree(split.seen) for m in self.config.l2_grid]
            )
            grid = ease_grid(self.users, self.items, split.seen, split.inner, l2s, base)
            for l2, model in zip(l2s, grid, strict=True):
                yield {**base, "l2": float(l2)}, model
            return
        configs = [base] if base or family != "als" else list(self.config.als_candidates)
        for config in configs:
            candidate = self._new(family, config)
            candidate._fit_on(self.users, self.items, split.seen, split.inner, books)
            yield config, candidate

    def _new(self, family: str, config: dict[str, Any]) -> Recommender:
        return _CLASSES[family](**{**self.part_config(family), **config})

    def _keep(self, family: str, part: Recommender, share: float, config: dict[str, Any]) -> None:
        # Score with the full training history (parts may have been fitted on less).
        part.seen, part.popularity = self.seen, self.popularity
        self.components[family] = part
        self.mix[family] = float(share)
        self.chosen[family] = config

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        total: np.ndarray | None = None
        for family, part in self.components.items():
            z = standardise(part._score_known(user_idx)) * np.float32(self.mix[family])
            total = z if total is None else total + z
        assert total is not None
        return total

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        family = max(self.mix, key=lambda f: self.mix[f])
        return self.components[family]._item_similarity(item_idx)

    def item_vectors(self) -> ItemVectors | None:
        """ALS part's factors (candidate generation for an index; hybrid re-ranks)."""
        part = self.components.get("als")
        return part.item_vectors() if part is not None else None

    def user_vectors(self, user_ids: np.ndarray) -> np.ndarray | None:
        part = self.components.get("als")
        return part.user_vectors(user_ids) if part is not None else None

    def config_dict(self) -> dict[str, Any]:
        config = dataclasses.asdict(self.config)
        for name in ("weight_grid", "l2_grid", "parts", "als_candidates"):
            config[name] = list(config[name])
        return config

    def _state(self) -> dict[str, np.ndarray]:
        state = {
            "mix": np.asarray([self.mix.get(f, 0.0) for f in FAMILIES], dtype=np.float64),
            "chosen": np.asarray(json.dumps(self.chosen, sort_keys=True)),
        }
        for family, part in self.components.items():
            state.update({f"{family}.{k}": v for k, v in part._state().items()})
        return state

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        if "mix" not in state:
            raise ModelLoadError("hybrid model saved by an older gbrec; retrain it")
        self.chosen = json.loads(str(state["chosen"]))
        self.mix, self.components = {}, {}
        for family, share in zip(FAMILIES, state["mix"], strict=True):
            if share <= 0.0:
                continue
            part = self._new(family, self.chosen.get(family, {}))
            part.users, part.items = self.users, self.items
            part.seen, part.popularity = self.seen, self.popularity
            part._restore(
                {
                    k.removeprefix(f"{family}."): v
                    for k, v in state.items()
                    if k.startswith(f"{family}.")
                }
            )
            self.components[family], self.mix[family] = part, float(share)
