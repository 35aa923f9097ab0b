"""Every registered model passes the recommender contract."""

from __future__ import annotations

from typing import Any, ClassVar

from gbrec_core.models import available_models

from .model_contract import RecommenderContract


def test_every_model_has_a_contract_test() -> None:
    tested = {cls.model_name for cls in RecommenderContract.__subclasses__()}
    assert tested == set(available_models())


class TestPopularity(RecommenderContract):
    model_name = "popularity"
    personalised = False


class TestALS(RecommenderContract):
    model_name = "als"
    config: ClassVar[dict[str, Any]] = {"factors": 4, "iterations": 10, "num_threads": 1}


class TestEASE(RecommenderContract):
    model_name = "ease"
    config: ClassVar[dict[str, Any]] = {"l2": 10.0}


class TestContent(RecommenderContract):
    model_name = "content"


class TestHybrid(RecommenderContract):
    model_name = "hybrid"
    config: ClassVar[dict[str, Any]] = {"ease": {"l2": 10.0}}


class TestEASERecencyWeighted(RecommenderContract):
    model_name = "ease"
    config: ClassVar[dict[str, Any]] = {"l2": 10.0, "half_life": 0.5}


class TestALSRecencyWeighted(RecommenderContract):
    model_name = "als"
    config: ClassVar[dict[str, Any]] = {
        "factors": 4,
        "iterations": 10,
        "num_threads": 1,
        "half_life": 0.5,
    }


class TestPopularityDecayedPerReader(RecommenderContract):
    model_name = "popularity"
    config: ClassVar[dict[str, Any]] = {"half_life": 0.2, "anchor": "user"}
    personalised = False
