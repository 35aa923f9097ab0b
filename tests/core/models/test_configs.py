"""Typed configs: keyword and JSON round trips, validation, saved-format versions, and
the hybrid combining its parts through their public methods only."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from gbrec_core.errors import InvalidInputError, ModelLoadError
from gbrec_core.models import (
    ALSConfig,
    ALSRecommender,
    ContentConfig,
    EASEConfig,
    HybridConfig,
    HybridRecommender,
    load_recommender,
    make_recommender,
)
from gbrec_core.models.config import build_config, config_to_json
from gbrec_core.models.hybrid import IMPLICIT_DEFAULTS
from gbrec_core.models.popularity import PopularityConfig

from .model_contract import GROUP_A_USERS, planted_books, planted_ratings

MODELS = Path(__file__).parents[3] / "gbrec_core" / "models"

CONFIGS = [
    PopularityConfig(),
    ALSConfig(factors=8, confidence="raw", alpha=1.0),
    EASEConfig(l2=12.5, max_items=100),
    ContentConfig(like_threshold=3, author_weight=0.5),
    HybridConfig(),
    HybridConfig(
        cf="als",
        ease=EASEConfig(l2=10.0),
        als=ALSConfig(factors=4),
        content=ContentConfig(author_weight=1.0),
        weight=0.3,
        parts=("als", "ease"),
        als_candidates=(ALSConfig(factors=2), IMPLICIT_DEFAULTS),
    ),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: type(c).__name__)
def test_config_round_trips_through_json(config: object) -> None:
    assert dataclasses.is_dataclass(config) and not isinstance(config, type)
    text = json.dumps(config_to_json(config))
    assert build_config(type(config), None, json.loads(text)) == config


def test_keywords_build_nested_typed_configs() -> None:
    model = make_recommender(
        "hybrid", ease={"l2": 10.0}, content={"author_weight": 1.0}, als_candidates=[{"factors": 2}]
    )
    assert isinstance(model, HybridRecommender)
    assert model.config.ease == EASEConfig(l2=10.0) and model.config.als is None
    assert model.config.content == ContentConfig(author_weight=1.0)
    assert model.config.als_candidates == (ALSConfig(factors=2),)


def test_constructor_takes_a_typed_config_and_overrides() -> None:
    model = ALSRecommender(IMPLICIT_DEFAULTS, factors=8)
    assert model.config == dataclasses.replace(IMPLICIT_DEFAULTS, factors=8)
    typed = HybridRecommender(HybridConfig(ease=EASEConfig(l2=3.0)), seed=4)
    assert typed.config.ease == EASEConfig(l2=3.0) and typed.config.seed == 4


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("als", {"factor": 8}),
        ("als", {"confidence": "squared"}),
        ("als", {"num_threads": -1}),
        ("ease", {"l2": 0.0}),
        ("content", {"like_threshold": 3.5}),
        ("popularity", {"k": 1}),
        ("hybrid", {"cf_config": {"l2": 10.0}}),
        ("hybrid", {"ease": {"lambda": 10.0}}),
        ("hybrid", {"als_candidates": ("als",)}),
        ("hybrid", {"content": 2.0}),
    ],
)
def test_invalid_configs_are_rejected(name: str, config: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        make_recommender(name, **config)


def test_wrong_config_class_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="ALSConfig"):
        ALSRecommender(EASEConfig())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def saved_hybrid(tmp_path_factory: pytest.TempPathFactory) -> tuple[HybridRecommender, Path]:
    model = HybridRecommender(
        HybridConfig(
            parts=("ease", "als", "popularity"),
            ease=EASEConfig(l2=10.0),
            als_candidates=(ALSConfig(factors=4, num_threads=1),),
        )
    ).fit(planted_ratings(per_user=12), planted_books())
    return model, model.save(tmp_path_factory.mktemp("hybrid") / "model")


def test_hybrid_nested_configs_round_trip(saved_hybrid: tuple[HybridRecommender, Path]) -> None:
    model, path = saved_hybrid
    loaded = load_recommender(path)
    assert isinstance(loaded, HybridRecommender)
    assert loaded.config == model.config and loaded.chosen == model.chosen
    assert all(type(c) in (EASEConfig, ALSConfig, PopularityConfig) for c in loaded.chosen.values())
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert manifest["config"]["ease"] == {
        "l2": 10.0,
        "max_items": 20000,
        "gram_block": 2048,
        "half_life": None,
    }


def _rewrite_manifest(path: Path, edit: dict[str, object], config: dict[str, object]) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(edit)
    manifest["config"] = config
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_version_1_hybrid_loads_and_scores_the_same(
    saved_hybrid: tuple[HybridRecommender, Path], tmp_path: Path
) -> None:
    model = saved_hybrid[0]
    legacy = model.save(tmp_path / "legacy")
    old_config = {
        **{k: v for k, v in model.config_dict().items() if k not in ("ease", "als", "content")},
        "cf_config": {"l2": 10.0},
        "content_config": {},
        "als_candidates": [{"factors": 4, "num_threads": 1}],
    }
    _rewrite_manifest(legacy, {"format_version": 1}, old_config)
    loaded = load_recommender(legacy)
    assert isinstance(loaded, HybridRecommender) and loaded.config == model.config
    users = np.concatenate([GROUP_A_USERS, [999999]])
    for a, b in zip(model.recommend(users), loaded.recommend(users), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    ("edit", "config"),
    [
        ({"format_version": 3}, {}),
        ({}, {"ease": {"l2": -1.0}}),
        ({}, {"no_such_knob": 1}),
        ({}, {"als_candidates": "fast"}),
        ({}, {"validation_fraction": "high"}),
        ({}, {"als_candidates": [{"factors": "many"}]}),
    ],
)
def test_unreadable_saved_configs_raise_model_load_error(
    saved_hybrid: tuple[HybridRecommender, Path],
    tmp_path: Path,
    edit: dict[str, object],
    config: dict[str, object],
) -> None:
    path = saved_hybrid[0].save(tmp_path / "model")
    _rewrite_manifest(path, edit, config)
    with pytest.raises(ModelLoadError):
        load_recommender(path)


def test_public_scores_are_what_recommend_ranks() -> None:
    model = make_recommender("ease", l2=10.0).fit(planted_ratings())
    users = np.array([GROUP_A_USERS[0], 424242])
    scores = model.score(users)
    ids, top = model.recommend(users, k=5, exclude_seen=False)
    assert model.items is not None and scores.shape == (2, len(model.items))
    np.testing.assert_array_equal(model.items.ids[np.argsort(-scores, kind="stable")[:, :5]], ids)
    np.testing.assert_allclose(np.sort(scores, axis=1)[:, ::-1][:, :5], top)
    assert model.users is not None
    row = model.users.position(int(GROUP_A_USERS[0]))
    np.testing.assert_array_equal(model.score_rows(np.array([row])), scores[:1])
    with pytest.raises(InvalidInputError):
        model.score_rows(np.array([len(model.users)]))


def _private_uses_of_others(module: Path) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``: reaching into another object."""
    tree = ast.parse(module.read_text())
    return [
        f"{module.name}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


@pytest.mark.parametrize("module", ["hybrid.py", "selection.py"])
def test_ensemble_uses_only_public_methods_of_its_parts(module: str) -> None:
    assert _private_uses_of_others(MODELS / module) == []
