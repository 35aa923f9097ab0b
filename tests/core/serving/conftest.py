"""One real sqlite MLflow registry with three versions, shared by the serving tests.

Each test builds its servers with their own GBREC_HOME (so disk caches are separate)
pointing at this shared registry, and sets the champion it needs first.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings

from ..skewed_ratings import skewed_ratings
from .serving_fixtures import Fleet


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    home = tmp_path_factory.mktemp("serving-registry")
    base = Settings(home=home, synthetic_scale="tiny")
    settings = base.model_copy(
        update={
            "mlflow_tracking_uri": base.tracking_uri,
            "mlflow_artifact_root": base.artifact_root,
            # Servers get homes of their own: they share the writer's key, as a
            # deployment shares GBREC_SIGNING_KEY.
            "signing_key": "serving-tests-signing-key",
        }
    )
    fleet = Fleet(settings, ModelRegistry(settings), {})
    fleet.log(make_recommender("popularity").fit(skewed_ratings(1)), 0.10)
    fleet.log(make_recommender("popularity").fit(skewed_ratings(2)), 0.11)
    als = make_recommender("als", factors=8, iterations=3, num_threads=1)
    fleet.log(als.fit(skewed_ratings(3)), 0.12)
    return fleet


@pytest.fixture
def with_champion(fleet: Fleet) -> Callable[[str], None]:
    def set_champion(version: str) -> None:
        fleet.registry.promote(version, force=True)

    return set_champion
