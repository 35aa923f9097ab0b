"""Building the serving stack from settings: what the API lifespan and the CLI share.

``ServingStack.open(settings, observer)`` connects Redis (embedded or
``GBREC_REDIS_URL``), loads the book catalogue, starts the :class:`ModelServer` on the
registry's champion, opens the vector index and wires the
:class:`RecommendationService`. A long-lived process (the API) watches the champion
alias and precomputes every user's list in the background; a ``one_off`` process
(``gbrec recommend``) does neither and ranks only the asked user's batch, exactly as
the precomputed table would. ``close()`` stops what it started.
"""

from __future__ import annotations

from dataclasses import dataclass

from gbrec_core.experiments import ExperimentService
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving.arms import ArmModels
from gbrec_core.serving.catalog import load_catalog
from gbrec_core.serving.index_manager import IndexManager
from gbrec_core.serving.observer import ServingObserver
from gbrec_core.serving.routing import ExperimentRouter
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.service import RecommendationService
from gbrec_core.settings import Settings
from gbrec_core.store import connect
from gbrec_core.store.client import RedisClient


@dataclass
class ServingStack:
    settings: Settings
    redis: RedisClient
    registry: ModelRegistry
    server: ModelServer
    experiments: ExperimentService
    monitor: OnlineMonitor
    service: RecommendationService

    @classmethod
    def open(
        cls, settings: Settings, observer: ServingObserver, *, one_off: bool = False
    ) -> ServingStack:
        """Blocking (run it in a thread from async code)."""
        settings.ensure_home()
        catalog, books = load_catalog(settings)
        registry = ModelRegistry(settings)
        server = ModelServer(settings, registry, books=books, precompute_on_demand=one_off)
        server.start(watch=not one_off)
        indexes = IndexManager(settings, server)
        indexes.ensure()
        client = connect(settings)  # a thread-safe pool shared by the blocking services
        experiments = ExperimentService(settings, client)
        monitor = OnlineMonitor.from_settings(settings, client)
        service = RecommendationService(
            server,
            catalog,
            indexes,
            ExperimentRouter(experiments, observer),
            ArmModels(server, observer, resolve_seconds=settings.experiment_cache_seconds),
            monitor,
            observer,
        )
        return cls(settings, client, registry, server, experiments, monitor, service)

    @property
    def indexes(self) -> IndexManager:
        return self.service.indexes

    def close(self) -> None:
        self.server.stop()
        self.indexes.close()
        self.redis.close()
