"""Helpers of the serving tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gbrec_core.models import Recommender
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import ModelServer
from gbrec_core.settings import Settings


@dataclasses.dataclass
class Fleet:
    """The shared registry, its versions and the models behind them."""

    settings: Settings
    registry: ModelRegistry
    models: dict[str, Recommender]

    def log(self, model: Recommender, ndcg: float) -> str:
        fp = {"sha256": "x", "rows": 1, "users": 1, "books": 1}
        run_id = self.registry.log_training_run(model, {"ndcg": ndcg}, {}, fp)
        version = self.registry.register(run_id).version
        self.models[version] = model
        return version

    def server_settings(self, home: Path, **overrides: object) -> Settings:
        return self.settings.model_copy(update={"home": home, **overrides})

    def server(self, home: Path, **overrides: object) -> ModelServer:
        settings = self.server_settings(home, **overrides)
        return ModelServer(settings, ModelRegistry(settings))
