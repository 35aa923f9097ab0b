"""A real sqlite MLflow registry in a temporary folder, shared by the module's tests."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from gbrec_core.models import Recommender, make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings

from ..skewed_ratings import skewed_ratings


@pytest.fixture(scope="session")
def make_ratings() -> Callable[[int], pd.DataFrame]:
    return skewed_ratings


@pytest.fixture(scope="module")
def registry_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("registry-home")
    return Settings(home=home, synthetic_scale="tiny", promotion_tolerance=0.05)


@pytest.fixture(scope="module")
def registry(registry_settings: Settings) -> ModelRegistry:
    return ModelRegistry(registry_settings)


@pytest.fixture(scope="module")
def log_model(registry: ModelRegistry) -> Callable[[int, float], tuple[str, Recommender]]:
    """Train a popularity model on seed ``seed``, log it with ndcg=``ndcg``, register it."""

    def make(seed: int, ndcg: float) -> tuple[str, Recommender]:
        model = make_recommender("popularity").fit(skewed_ratings(seed))
        fp = {"sha256": f"sha-{seed}", "rows": 900, "users": 60, "books": 120}
        run_id = registry.log_training_run(model, {"ndcg": ndcg}, {"seed": seed}, fp)
        return registry.register(run_id).version, model

    return make
