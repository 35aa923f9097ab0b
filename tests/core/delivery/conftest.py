"""Fixtures for the delivery loop: real embedded Redis, sqlite MLflow with three versions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from gbrec_core.delivery.lease import Lease
from gbrec_core.delivery.loop import DeliveryLoop
from gbrec_core.experiments import ExperimentService
from gbrec_core.models import make_recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import RedisClient, connect, stop_server


@pytest.fixture(scope="module")
def registry_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One MLflow home per module: v1 champion, v2 challenger (popularity models)."""
    settings = Settings(home=tmp_path_factory.mktemp("delivery") / "home")
    registry = ModelRegistry(settings)
    rng = np.random.default_rng(3)
    seen = pd.DataFrame(
        {
            "user_id": rng.integers(1, 50, 500),
            "book_id": rng.integers(1, 80, 500),
            "rating": rng.integers(1, 6, 500),
        }
    ).drop_duplicates(["user_id", "book_id"])
    fp = {"sha256": "test", "rows": len(seen), "users": 49, "books": 79}
    for _ in range(2):
        model = make_recommender("popularity").fit(seen)
        run = registry.log_training_run(model, {"ndcg": 0.1}, {}, fp, lineage_tag="dagster:r-42")
        registry.register(run)
    return settings


@pytest.fixture
def loop_settings(registry_home: Settings, tmp_path: pytest.TempPathFactory) -> Settings:
    return registry_home.model_copy(
        update={
            "experiment_snapshot_seconds": 0.0,
            "experiment_sweep_seconds": 1.0,
            "delivery_stages": (0.5, 1.0),
            "delivery_min_users": 40,
        }
    )


@pytest.fixture
def registry(loop_settings: Settings) -> ModelRegistry:
    reg = ModelRegistry(loop_settings)
    reg.promote("1", force=True)
    reg.client.set_registered_model_alias(reg.name, "challenger", "2")
    return reg


@pytest.fixture
def rconn(loop_settings: Settings) -> Iterator[RedisClient]:
    # The module's home (and embedded server) outlives a test: empty it in either case.
    client = connect(loop_settings)
    client.flushdb()
    yield client
    client.close()
    stop_server(loop_settings)


@pytest.fixture
def experiments(loop_settings: Settings, rconn: RedisClient) -> ExperimentService:
    return ExperimentService(loop_settings, rconn)


def make_loop(
    settings: Settings,
    experiments: ExperimentService,
    registry: ModelRegistry,
    r: RedisClient,
    lease_seconds: float = 0.001,
) -> DeliveryLoop:
    """A loop whose lease (by default shorter than any test step) lets every sweep act."""
    lease = Lease(r, ttl_seconds=lease_seconds)
    return DeliveryLoop(settings, experiments, registry, r, lease=lease)


@pytest.fixture
def loop(
    loop_settings: Settings,
    experiments: ExperimentService,
    registry: ModelRegistry,
    rconn: RedisClient,
) -> DeliveryLoop:
    return make_loop(loop_settings, experiments, registry, rconn)
