"""Hybrid: an ensemble of EASE, ALS, content and popularity, selected on validation.

``score = sum_j w_j * z(score_j)``, where ``z`` standardises each user's scores over
the catalogue. With ``weight=None`` (default) everything is chosen on an internal
temporal validation split of the *training* data (see ``selection``): EASE's lambda
on a grid relative to the mean item degree, ALS among ``als_candidates`` (one is
implicit's library default), then the parts are blended greedily, best first, each
joining with the grid weight that maximises validation NDCG@10 (weight 0 always
allowed). So on validation the ensemble is at least as good as its best part.
Time-aware candidates (ratings are in time order, see ``base``): once EASE's lambda
and the ALS candidate are chosen, each scored with recency-weighted histories
(``half_life_grid``, tried from mild to strong while validation improves; EASE keeps
its ``B``, ALS its item factors and re-solves the user factors); beside plain
popularity, popularity decayed in time from the end of the data or from each
reader's latest rating (``popularity_half_lives``). A time-aware candidate replaces
the static one only when its validation NDCG is ``min_time_gain`` (relative) higher
and the per-user gain is more than ``GAIN_STANDARD_ERRORS`` standard errors above
zero, so on data whose order carries no signal the ensemble stays the static one.
Parts are fitted once, on the training data minus the validation users' held-out
tail; at the end they score with the full history (ALS re-solves those users'
factors), so there is no second fit. ``weight=w`` keeps the old fixed blend
``(1 - w) * z(cf) + w * z(content)`` without validation.

Parts are combined through their public methods only (``fit_prepared``,
``score_rows``, ``similarity_rows``, ``use_history``, ``learned_state``, ``restore``);
each part's config is typed (``HybridConfig.ease``/``als``/``content``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gbrec_core.errors import InvalidInputError, ModelLoadError
from gbrec_core.models.als import ALSConfig, ALSRecommender
from gbrec_core.models.base import IdMap, ItemVectors, Recommender, entry_times, rating_times
from gbrec_core.models.config import build_config, check_config_type, config_to_json
from gbrec_core.models.content import ContentConfig, ContentRecommender
from gbrec_core.models.ease import EASEConfig, EASERecommender, ease_grid, mean_item_degree
from gbrec_core.models.popularity import Anchor, PopularityConfig, PopularityRecommender
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
IMPLICIT_DEFAULTS = ALSConfig(confidence="raw", alpha=1.0, regularization=0.01)
ANCHORS: tuple[Anchor, ...] = ("end", "user")
# A time-aware candidate's per-user validation gain must exceed this many standard
# errors: one keeps noise out (on data without a time signal the gain is ~0.3 SE)
# without missing real gains that a 5,000-user validation measures at ~1.7-2 SE.
GAIN_STANDARD_ERRORS = 1.0

PartConfig = EASEConfig | ALSConfig | ContentConfig | PopularityConfig


# A validated candidate: (validation NDCG@10, fitted model, its config, its z-scores).
class Candidate(NamedTuple):
    """A part scored on the validation users: mean and per-user NDCG@10, z-scores."""

    ndcg: float
    model: Recommender
    config: PartConfig
    z: np.ndarray
    per_user: np.ndarray


@dataclasses.dataclass(frozen=True)
class HybridConfig:
    """The ensemble's knobs and each part's typed config.

    ``ease`` / ``als``: that part's config, fixed (no search); ``None`` (default) lets
    validation choose: EASE's lambda among ``l2_grid`` (multiples of the mean item
    degree, tried upwards while validation NDCG improves; other knobs default), ALS
    among ``als_candidates``. ``content``: the content part's config. ``cf``: the CF
    part of the fixed blend ``weight=w`` (its config, or the default when ``None``).
    ``parts``: ensemble candidates, a non-empty subset of ``FAMILIES``.
    ``half_life_grid``: recency half-lives (shares of a reader's history length) tried
    for the chosen EASE and ALS, mild to strong; ``popularity_half_lives``: decay half-lives
    (shares of the training time span) tried for popularity, anchored at the end and
    at each reader; ``min_time_gain``: the relative validation gain a time-aware
    candidate needs over the static one (besides being significant). Empty grids
    switch the time-aware search off.
    """

    cf: Literal["als", "ease"] = "ease"
    ease: EASEConfig | None = None
    als: ALSConfig | None = None
    content: ContentConfig = dataclasses.field(default_factory=ContentConfig)
    weight: float | None = None
    weight_grid: tuple[float, ...] = DEFAULT_GRID
    validation_fraction: float = 0.2
    validation_users: int = 5000
    seed: int = 0
    parts: tuple[str, ...] = FAMILIES
    l2_grid: tuple[float, ...] = (2.0, 8.0, 32.0)
    als_candidates: tuple[ALSConfig, ...] = (ALSConfig(), IMPLICIT_DEFAULTS)
    half_life_grid: tuple[float, ...] = (1.0, 0.5, 0.25)
    popularity_half_lives: tuple[float, ...] = (0.1, 0.03, 0.01)
    min_time_gain: float = 0.01

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
        if min(self.half_life_grid + self.popularity_half_lives, default=1.0) <= 0:
            raise InvalidInputError("half-lives must be > 0")
        if self.min_time_gain < 0:
            raise InvalidInputError("min_time_gain must be >= 0")
        self._check_part_types()
        for name in ("weight_grid", "l2_grid", "half_life_grid", "popularity_half_lives"):
            object.__setattr__(self, name, tuple(float(w) for w in getattr(self, name)))
        object.__setattr__(self, "parts", tuple(self.parts))
        object.__setattr__(self, "als_candidates", tuple(self.als_candidates))

    def _check_part_types(self) -> None:
        check_config_type("ease", self.ease, EASEConfig, type(None))
        check_config_type("als", self.als, ALSConfig, type(None))
        check_config_type("content", self.content, ContentConfig)
        for candidate in self.als_candidates:
            check_config_type("als_candidates entry", candidate, ALSConfig)


def make_part(config: PartConfig) -> Recommender:
    """The unfitted model a part config belongs to."""
    if isinstance(config, EASEConfig):
        return EASERecommender(config)
    if isinstance(config, ALSConfig):
        return ALSRecommender(config)
    if isinstance(config, ContentConfig):
        return ContentRecommender(config)
    return PopularityRecommender(config)


def part_config_from_json(family: str, values: Mapping[str, Any]) -> PartConfig:
    """A saved part config (possibly partial: missing knobs take their defaults)."""
    classes: dict[str, type[PartConfig]] = {
        "ease": EASEConfig,
        "als": ALSConfig,
        "content": ContentConfig,
        "popularity": PopularityConfig,
    }
    try:
        return build_config(classes[family], None, values)
    except (KeyError, InvalidInputError, TypeError, ValueError) as e:
        raise ModelLoadError(f"saved hybrid part '{family}' has an invalid config: {e}") from e


class HybridRecommender(Recommender):
    name: ClassVar[str] = "hybrid"

    def __init__(self, config: HybridConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``HybridConfig()``) with ``overrides`` of its fields;
        nested part configs may be given as mappings (``ease={"l2": 10.0}``)."""
        super().__init__()
        self.config = build_config(HybridConfig, config, overrides)
        self.mix: dict[str, float] = {}
        self.chosen: dict[str, PartConfig] = {}
        self.components: dict[str, Recommender] = {}

    @property
    def weight(self) -> float:
        """Weight of the content part (0 when content is not in the blend)."""
        return self.mix.get("content", 0.0)

    def part_config(self, family: str) -> PartConfig:
        """The family's configured config, or its default when the hybrid leaves it open."""
        if family == "ease":
            return self.config.ease or EASEConfig()
        if family == "als":
            return self.config.als or ALSConfig()
        if family == "content":
            return self.config.content
        return PopularityConfig()

    @property
    def needs_times(self) -> bool:
        """Fitted: does a kept part read times? Unfitted: may the fit pick one?"""
        if self.components:
            return any(part.needs_times for part in self.components.values())
        fixed = any(
            config is not None and config.half_life is not None
            for config in (self.config.ease, self.config.als)
        )
        return fixed or (self.config.weight is None and self._searches_time())

    def _searches_time(self) -> bool:
        open_cf = ("ease" in self.config.parts and self.config.ease is None) or (
            "als" in self.config.parts and self.config.als is None
        )
        popularity = "popularity" in self.config.parts
        return (open_cf and bool(self.config.half_life_grid)) or (
            popularity and bool(self.config.popularity_half_lives)
        )

    def fit_prepared(
        self,
        users: IdMap,
        items: IdMap,
        seen: sp.csr_matrix,
        ratings: pd.DataFrame,
        books: pd.DataFrame | None,
    ) -> HybridRecommender:
        self.mix, self.chosen, self.components = {}, {}, {}
        super().fit_prepared(users, items, seen, ratings, books)
        if not self.needs_times:
            self.times = None  # no kept part reads them: neither kept nor saved
        return self

    def _fit(self, ratings: pd.DataFrame, books: pd.DataFrame | None) -> None:
        assert self.users is not None and self.items is not None and self.seen is not None
        split = None
        if self.config.weight is None:
            if self._searches_time():
                # Parts fitted on the inner split keep the full data's clock.
                ratings = ratings.assign(time=rating_times(ratings))
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
        content = ContentRecommender(self.config.content)
        if w > 0.0:
            content.fit_prepared(self.users, self.items, self.seen, ratings, books)
            w = w if content.has_features else 0.0
        for family, share in ((self.config.cf, 1.0 - w), ("content", w)):
            if share > 0.0:
                config = self.part_config(family)
                part = content if family == "content" else make_part(config)
                if not part.is_fitted:
                    part.fit_prepared(self.users, self.items, self.seen, ratings, books)
                self._keep(family, part, share, config)

    def _fit_validated(self, split: ValidationSplit, books: pd.DataFrame | None) -> None:
        found: list[tuple[str, Candidate]] = []
        for family in self.config.parts:
            best = self._best_of(family, split, books)
            if best is not None:
                found.append((family, best))
        found.sort(key=lambda entry: -entry[1].ndcg)
        grid = [w for w in self.config.weight_grid if w > 0.0]
        start = time.perf_counter()
        weights, ndcg = choose_weights(split, [best.z for _, best in found], grid)
        log.info(
            "hybrid validation: blend ndcg@10=%.4f weights=%s (%.1f s)",
            ndcg,
            weights,
            time.perf_counter() - start,
        )
        for (family, best), share in zip(found, weights, strict=True):
            if share > 0.0:
                self._keep(family, best.model, share, best.config)
                if isinstance(best.model, ALSRecommender):
                    # Validation users were held out; recency-weighted ALS re-solves
                    # everyone (candidates solved only the validation users).
                    assert self.users is not None
                    everyone = np.arange(len(self.users))
                    best.model.refresh_users(everyone if best.model.needs_times else split.user_idx)

    def _best_of(
        self, family: str, split: ValidationSplit, books: pd.DataFrame | None
    ) -> Candidate | None:
        """The family's best candidate on validation."""
        best: Candidate | None = None
        start = time.perf_counter()
        for config, model in self._candidates(family, split, books):
            if isinstance(model, ContentRecommender) and not model.has_features:
                return None
            found = _validated(family, config, model, split, start)
            start = time.perf_counter()
            if best is not None and found.ndcg <= best.ndcg:
                if family == "ease":
                    break  # lambdas go upwards; NDCG is unimodal in lambda in practice
                continue
            best = found
        if best is not None and family in ("ease", "als", "popularity"):
            best = self._time_aware(family, best, split, books)
        return best

    def _time_aware(
        self, family: str, static: Candidate, split: ValidationSplit, books: pd.DataFrame | None
    ) -> Candidate:
        """The static candidate, or the best time-aware one whose gain over it is both
        ``min_time_gain`` (relative) and significant (see :func:`clear_gain`)."""
        best = static
        start = time.perf_counter()
        for config, model in self._time_candidates(family, static, split, books):
            found = _validated(family, config, model, split, start)
            start = time.perf_counter()
            gain = found.per_user - static.per_user
            if found.ndcg > best.ndcg and clear_gain(gain, static.ndcg, self.config.min_time_gain):
                best = found
            elif family != "popularity" and found.ndcg <= best.ndcg:
                break  # half-lives go from mild to strong: stop at the first drop
        if best is not static:
            log.info("hybrid validation: %s is time-aware: %s", family, best.config)
        return best

    def _time_candidates(
        self, family: str, static: Candidate, split: ValidationSplit, books: pd.DataFrame | None
    ) -> Iterator[tuple[PartConfig, Recommender]]:
        """EASE's weights / ALS's item factors with recency-weighted histories (no
        refit; ALS re-solves the user factors), or time-decayed popularity at each
        half-life and anchor."""
        if family == "popularity":
            yield from self._popularity_candidates(split, books)
            return
        assert self.users is not None and self.items is not None
        model, config = static.model, static.config
        fixed = self.config.ease if family == "ease" else self.config.als
        if fixed is not None or not self.config.half_life_grid:
            return
        assert isinstance(config, EASEConfig | ALSConfig) and model.popularity is not None
        times = entry_times(split.inner, self.users, self.items, split.seen)
        for half_life in self.config.half_life_grid:
            weighted = dataclasses.replace(config, half_life=half_life)
            state = model.learned_state()
            if family == "als":  # a copy: ALS re-solves the user factors in place
                state = {k: v.copy() for k, v in state.items()}
            part = make_part(weighted).restore(
                self.users, self.items, split.seen, model.popularity, state, times
            )
            if isinstance(part, ALSRecommender):  # validation reads only these users
                part.refresh_users(split.user_idx)
            yield weighted, part

    def _popularity_candidates(
        self, split: ValidationSplit, books: pd.DataFrame | None
    ) -> Iterator[tuple[PartConfig, Recommender]]:
        assert self.users is not None and self.items is not None
        for half_life in self.config.popularity_half_lives:
            for anchor in ANCHORS:
                decayed = PopularityConfig(half_life=half_life, anchor=anchor)
                part = make_part(decayed)
                yield (
                    decayed,
                    part.fit_prepared(self.users, self.items, split.seen, split.inner, books),
                )

    def _candidates(
        self, family: str, split: ValidationSplit, books: pd.DataFrame | None
    ) -> Iterator[tuple[PartConfig, Recommender]]:
        """The family's candidate models, each fitted on the inner split, lazily."""
        assert self.users is not None and self.items is not None
        if family == "ease":
            yield from self._ease_candidates(split)
            return
        configs: tuple[PartConfig, ...] = (self.part_config(family),)
        if family == "als" and self.config.als is None:
            configs = self.config.als_candidates
        for config in configs:
            candidate = make_part(config)
            candidate.fit_prepared(self.users, self.items, split.seen, split.inner, books)
            yield config, candidate

    def _ease_candidates(self, split: ValidationSplit) -> Iterator[tuple[PartConfig, Recommender]]:
        """EASE at the configured lambda, or along ``l2_grid`` (one shared Gram matrix)."""
        assert self.users is not None and self.items is not None
        fixed = self.config.ease
        if fixed is not None:
            l2s = [fixed.l2]
        else:
            l2s = [m * mean_item_degree(split.seen) for m in self.config.l2_grid]
        base = fixed or EASEConfig()
        for model in ease_grid(self.users, self.items, split.seen, split.inner, l2s, base):
            yield model.config, model

    def _keep(self, family: str, part: Recommender, share: float, config: PartConfig) -> None:
        assert self.seen is not None and self.popularity is not None
        # Score with the full training history (parts may have been fitted on less).
        part.use_history(self.seen, self.popularity, self.times if part.needs_times else None)
        self.components[family] = part
        self.mix[family] = float(share)
        self.chosen[family] = config

    def _score_known(self, user_idx: np.ndarray) -> np.ndarray:
        total: np.ndarray | None = None
        for family, part in self.components.items():
            z = standardise(part.score_rows(user_idx)) * np.float32(self.mix[family])
            total = z if total is None else total + z
        assert total is not None
        return total

    def _score_history(self, history: sp.csr_matrix, times: np.ndarray | None) -> np.ndarray:
        total: np.ndarray | None = None
        for family, part in self.components.items():
            z = standardise(part.score_history(history, times)) * np.float32(self.mix[family])
            total = z if total is None else total + z
        assert total is not None
        return total

    def _contributions(
        self, history: sp.csr_matrix, item: int, times: np.ndarray | None
    ) -> np.ndarray:
        """The parts' contributions on the blend's scale (each z-scored by its row's
        spread, then weighted by its mix share)."""
        total = np.zeros(history.nnz, dtype=np.float32)
        for family, part in self.components.items():
            spread = float(part.score_history(history, times).std()) or 1.0
            share = self.mix[family] / spread
            total += np.float32(share) * part.contributions(history, item, times)
        return total

    def _item_similarity(self, item_idx: np.ndarray) -> np.ndarray:
        family = max(self.mix, key=lambda f: self.mix[f])
        return self.components[family].similarity_rows(item_idx)

    def item_vectors(self) -> ItemVectors | None:
        """ALS part's factors (candidate generation for an index; hybrid re-ranks)."""
        part = self.components.get("als")
        return part.item_vectors() if part is not None else None

    def user_vectors(self, user_ids: np.ndarray) -> np.ndarray | None:
        part = self.components.get("als")
        return part.user_vectors(user_ids) if part is not None else None

    def _state(self) -> dict[str, np.ndarray]:
        chosen = {family: config_to_json(config) for family, config in self.chosen.items()}
        state = {
            "mix": np.asarray([self.mix.get(f, 0.0) for f in FAMILIES], dtype=np.float64),
            "chosen": np.asarray(json.dumps(chosen, sort_keys=True)),
        }
        for family, part in self.components.items():
            state.update({f"{family}.{k}": v for k, v in part.learned_state().items()})
        return state

    def _restore(self, state: dict[str, np.ndarray]) -> None:
        assert self.users is not None and self.items is not None
        assert self.seen is not None and self.popularity is not None
        if "mix" not in state:
            raise ModelLoadError("hybrid model saved by an older gbrec; retrain it")
        chosen = json.loads(str(state["chosen"]))
        self.mix, self.chosen, self.components = {}, {}, {}
        for family, share in zip(FAMILIES, state["mix"], strict=True):
            if share <= 0.0:
                continue
            config = part_config_from_json(family, chosen.get(family, {}))
            prefix = f"{family}."
            part_state = {
                k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)
            }
            part = make_part(config)
            times = self.times if part.needs_times else None
            self.components[family] = part.restore(
                self.users, self.items, self.seen, self.popularity, part_state, times
            )
            self.mix[family], self.chosen[family] = float(share), config


def clear_gain(gain: np.ndarray, baseline: float, min_gain: float) -> bool:
    """Is the mean per-user ``gain`` at least ``min_gain * baseline`` and more than
    ``GAIN_STANDARD_ERRORS`` standard errors above zero (paired, over the validation
    users)?"""
    mean = float(gain.mean())
    error = float(gain.std(ddof=1) / np.sqrt(gain.shape[0])) if gain.shape[0] > 1 else np.inf
    return mean >= min_gain * baseline and mean > GAIN_STANDARD_ERRORS * error


def _validated(
    family: str, config: PartConfig, model: Recommender, split: ValidationSplit, start: float
) -> Candidate:
    """The candidate scored on the validation users (z-scores) and its NDCG@10; the
    log line's time runs from ``start`` (the candidate's fit began)."""
    z = standardise(model.score_rows(split.user_idx))
    per_user = split.ndcg_per_user(z)
    ndcg = float(per_user.mean())
    log.info(
        "hybrid validation: %s %s ndcg@10=%.4f (%.1f s)",
        family,
        config,
        ndcg,
        time.perf_counter() - start,
    )
    return Candidate(ndcg, model, config, z, per_user)
