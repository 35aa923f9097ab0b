"""Recommender models: ``make_recommender(name, **config)`` and ``available_models()``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gbrec_core.errors import InvalidInputError
from gbrec_core.models.als import ALSConfig, ALSRecommender
from gbrec_core.models.base import ItemVectors, Recommender, top_k
from gbrec_core.models.content import ContentConfig, ContentRecommender
from gbrec_core.models.ease import EASEConfig, EASERecommender
from gbrec_core.models.features import books_with_tags
from gbrec_core.models.hybrid import HybridConfig, HybridRecommender
from gbrec_core.models.persistence import read_manifest
from gbrec_core.models.popularity import PopularityConfig, PopularityRecommender

_REGISTRY: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        PopularityRecommender,
        ALSRecommender,
        EASERecommender,
        ContentRecommender,
        HybridRecommender,
    )
}


def available_models() -> list[str]:
    """Names accepted by :func:`make_recommender`."""
    return sorted(_REGISTRY)


def make_recommender(name: str, **config: Any) -> Recommender:
    """Build an unfitted model by name, with its config as keyword arguments.

    Keywords are the fields of the model's ``<Name>Config`` (nested configs may be
    mappings); ``config=<Name>Config(...)`` passes a typed config. Unknown names and
    invalid configs raise ``InvalidInputError``.
    """
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise InvalidInputError(
            f"unknown model '{name}'; available: {', '.join(available_models())}"
        ) from None
    return cls(**config)


def load_recommender(path: str | Path) -> Recommender:
    """Load any saved model, dispatching on the name in its manifest."""
    name = str(read_manifest(Path(path))["model"])
    if name not in _REGISTRY:
        from gbrec_core.errors import ModelLoadError

        raise ModelLoadError(f"{path} holds unknown model '{name}'")
    return _REGISTRY[name].load(path)


__all__ = [
    "ALSConfig",
    "ALSRecommender",
    "ContentConfig",
    "ContentRecommender",
    "EASEConfig",
    "EASERecommender",
    "HybridConfig",
    "HybridRecommender",
    "ItemVectors",
    "PopularityConfig",
    "PopularityRecommender",
    "Recommender",
    "available_models",
    "books_with_tags",
    "load_recommender",
    "make_recommender",
    "top_k",
]
