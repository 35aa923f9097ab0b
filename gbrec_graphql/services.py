"""Everything the API holds for its lifetime, built once in the Starlette lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from gbrec_core.serving import FALLBACK_VERSION, ModelServer
from gbrec_core.settings import Settings
from gbrec_graphql.audit.store import AuditLog
from gbrec_graphql.auth import KeyVerifier
from gbrec_graphql.books.catalog import BookCatalog
from gbrec_graphql.index.manager import IndexManager
from gbrec_graphql.metrics import Metrics
from gbrec_graphql.ratelimit import BucketConfig, RateLimiter
from gbrec_graphql.recommendations.variants import VariantModels

if TYPE_CHECKING:
    from gbrec_core.experiments import ExperimentService
    from gbrec_core.monitoring import OnlineMonitor
    from gbrec_core.registry import ModelRegistry
    from gbrec_graphql.books.types import BookViews


@dataclass
class Services:
    """The long-lived objects resolvers reach through the request Context."""

    settings: Settings
    redis: aioredis.Redis
    registry: ModelRegistry
    server: ModelServer
    experiments: ExperimentService
    catalog: BookCatalog
    books: BookViews
    indexes: IndexManager
    metrics: Metrics
    keys: KeyVerifier
    limiter: RateLimiter
    audit: AuditLog
    variants: VariantModels
    # Served-response log and click attribution for the online metrics (degradation sensor).
    monitor: OnlineMonitor
    redis_up: float = 0.0
    # Serialises index rebuilds: two at once would only burn the CPU twice.
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def admin_bucket(self) -> BucketConfig:
        return BucketConfig("mutations", self.settings.mutation_rate_limit)

    @property
    def events_bucket(self) -> BucketConfig:
        return BucketConfig("events", self.settings.event_rate_limit)

    @property
    def production(self) -> bool:
        return self.settings.env == "production"

    def serving_label(self) -> str:
        return self.server.serving_version().version

    def server_ready(self) -> bool:
        return self.serving_label() != FALLBACK_VERSION
