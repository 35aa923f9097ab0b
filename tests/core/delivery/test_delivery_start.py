"""start_delivery on a real sqlite MLflow registry and an embedded Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from gbrec_core.delivery import challenger_spec, start_delivery
from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.types import ExperimentStatus, Strategy
from gbrec_core.models import make_recommender
from gbrec_core.registry import CHALLENGER, CHAMPION, ModelRegistry
from gbrec_core.settings import Settings

from ..skewed_ratings import skewed_ratings

LogModel = Callable[[float], str]


@pytest.fixture
def delivery_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "promotion_tolerance": 0.05,
            "delivery_stages": (0.1, 0.5),
            "delivery_guardrails": ("precision", "ctr"),
            "delivery_min_users": 30,
        }
    )


@pytest.fixture
def registry(delivery_settings: Settings) -> ModelRegistry:
    return ModelRegistry(delivery_settings)


@pytest.fixture
def experiments(
    delivery_settings: Settings, redis_client: redis.Redis
) -> Iterator[ExperimentService]:
    yield ExperimentService(delivery_settings, redis_client)


@pytest.fixture
def log_model(registry: ModelRegistry) -> LogModel:
    model = make_recommender("popularity").fit(skewed_ratings(1))
    fp = {"sha256": "sha", "rows": 900, "users": 60, "books": 120}

    def make(ndcg: float) -> str:
        run_id = registry.log_training_run(model, {"ndcg": ndcg}, {}, fp)
        return registry.register(run_id).version

    return make


def test_challenger_spec_is_a_staged_champion_challenger_test(
    delivery_settings: Settings,
) -> None:
    spec = challenger_spec(delivery_settings, "3", "7")
    assert spec.id == "challenger-v7" and spec.strategy is Strategy.STAGED
    assert [(v.name, v.model) for v in spec.variants] == [("champion", "3"), ("challenger", "7")]
    assert spec.stages == (0.1, 0.5) and spec.min_users_per_variant == 30
    assert spec.metrics == ("ctr", "precision") and spec.guardrails == ("precision", "ctr")
    assert spec.champion_challenger and "v3" in spec.description and "v7" in spec.description


def test_experiment_mode_first_champion_then_challenger_experiment(
    delivery_settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService,
    log_model: LogModel,
) -> None:
    first = start_delivery(delivery_settings, registry, experiments, log_model(0.30))
    assert first.champion and first.alias == CHAMPION and first.experiment_id is None
    assert registry.champion_version() == first.version == "1"

    second = start_delivery(delivery_settings, registry, experiments, log_model(0.31))
    assert not second.champion and second.alias == CHALLENGER
    assert second.experiment_id == "challenger-v2" and second.champion_version == "1"
    assert registry.champion_version() == "1" and registry.alias_version(CHALLENGER) == "2"
    exp = experiments.get("challenger-v2")
    assert exp.status is ExperimentStatus.RUNNING and exp.coverage == 0.1

    # A newer challenger replaces the running one: only one challenger experiment runs.
    third = start_delivery(delivery_settings, registry, experiments, log_model(0.32))
    assert third.experiment_id == "challenger-v3" and third.stopped == ("challenger-v2",)
    assert experiments.get("challenger-v2").status is ExperimentStatus.STOPPED
    assert [e.id for e in experiments.find(ExperimentStatus.RUNNING)] == ["challenger-v3"]
    assert registry.alias_version(CHALLENGER) == "3" and registry.champion_version() == "1"


def test_experiment_mode_gate_failure_leaves_the_version_unaliased(
    delivery_settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService,
    log_model: LogModel,
) -> None:
    start_delivery(delivery_settings, registry, experiments, log_model(0.30))
    worse = start_delivery(delivery_settings, registry, experiments, log_model(0.10))
    assert not worse.champion and worse.alias is None and worse.experiment_id is None
    assert "worse than champion v1" in worse.reason
    assert registry.version(worse.version).aliases == []
    assert experiments.find() == []


def test_gate_mode_promotes_at_once(
    delivery_settings: Settings,
    registry: ModelRegistry,
    experiments: ExperimentService,
    log_model: LogModel,
) -> None:
    gate = delivery_settings.model_copy(update={"delivery": "gate"})
    start_delivery(gate, registry, experiments, log_model(0.30))
    evidence = "als chosen on ndcg@10 = 0.31; runner-up ease 0.29 (paired t-test p = 0.003)"
    outcome = start_delivery(gate, registry, experiments, log_model(0.31), evidence=evidence)
    assert outcome.mode == "gate" and outcome.champion and outcome.experiment_id is None
    assert registry.champion_version() == "2" and experiments.find() == []
    assert outcome.reason.startswith("ndcg 0.31 >= ") and outcome.reason.endswith(f"; {evidence}")


def test_champion_cannot_be_challenger_and_experiment_mode_needs_redis(
    delivery_settings: Settings, registry: ModelRegistry, log_model: LogModel
) -> None:
    first = start_delivery(delivery_settings, registry, None, log_model(0.30))
    assert first.champion  # the first version needs no experiment
    with pytest.raises(InvalidInputError, match="champion"):
        registry.set_challenger(first.version)
    with pytest.raises(InvalidInputError, match="ExperimentService"):
        start_delivery(delivery_settings, registry, None, log_model(0.31))
    assert registry.alias_version(CHALLENGER) is None
