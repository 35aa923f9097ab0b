"""Everything the API holds for its lifetime, built once in the Starlette lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gbrec_core.access import AuditLog, BucketConfig, RateLimiter
from gbrec_core.access.authenticate import Authenticator
from gbrec_core.access.local_limit import LocalRateLimiter
from gbrec_core.experiments import ExperimentService
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.registry import ModelRegistry
from gbrec_core.serving import FALLBACK_VERSION, BookCatalog, ModelServer
from gbrec_core.serving.index_manager import IndexManager
from gbrec_core.serving.service import RecommendationService
from gbrec_core.serving.stack import ServingStack
from gbrec_core.settings import Settings
from gbrec_core.store.client import AsyncRedisClient
from gbrec_graphql.books.types import BookViews
from gbrec_graphql.metrics import Metrics


@dataclass
class Services:
    """The long-lived objects resolvers reach through the request Context: the core's
    serving stack plus what only the API needs (keys, limits, audit, metrics)."""

    stack: ServingStack
    #: ``stack.service``, held directly: every recommendations request reads it.
    service: RecommendationService
    redis: AsyncRedisClient
    books: BookViews
    metrics: Metrics
    limiter: RateLimiter
    audit: AuditLog
    auth: Authenticator
    #: Read budgets (per key, per client address), kept in this process.
    key_reads: LocalRateLimiter
    address_reads: LocalRateLimiter
    redis_up: float = 0.0
    # Serialises index rebuilds: two at once would only burn the CPU twice.
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    @property
    def server(self) -> ModelServer:
        return self.stack.server

    @property
    def registry(self) -> ModelRegistry:
        return self.stack.registry

    @property
    def experiments(self) -> ExperimentService:
        return self.stack.experiments

    @property
    def monitor(self) -> OnlineMonitor:
        return self.stack.monitor

    @property
    def catalog(self) -> BookCatalog:
        return self.stack.service.catalog

    @property
    def indexes(self) -> IndexManager:
        return self.stack.indexes

    @property
    def admin_bucket(self) -> BucketConfig:
        return BucketConfig("mutations", self.settings.mutation_rate_limit)

    @property
    def events_bucket(self) -> BucketConfig:
        return BucketConfig("events", self.settings.event_rate_limit)

    @property
    def production(self) -> bool:
        return self.settings.env == "production"

    @property
    def reads_need_key(self) -> bool:
        """Production fails closed; dev keeps keyless reads unless asked otherwise."""
        return self.production or self.settings.require_key_for_reads

    def serving_label(self) -> str:
        return self.server.serving_version().version

    def server_ready(self) -> bool:
        return self.serving_label() != FALLBACK_VERSION
