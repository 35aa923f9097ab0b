"""Building and closing the API's long-lived services (the Starlette lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from gbrec_core.access import KeyVerifier, RateLimiter
from gbrec_core.access.audited import open_audit
from gbrec_core.access.authenticate import Authenticator
from gbrec_core.access.local_limit import LocalRateLimiter
from gbrec_core.delivery.loop import DeliveryLoop, run_delivery_loop
from gbrec_core.delivery.notify import alert_notifier
from gbrec_core.experiments.sweeper import run_sweeper
from gbrec_core.serving.stack import ServingStack
from gbrec_core.settings import Settings
from gbrec_core.store import connect_async
from gbrec_graphql.books.types import BookViews
from gbrec_graphql.metrics import CoreCollector, Metrics, OnlineCollector
from gbrec_graphql.services import Services

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """Blocking construction (run in a thread): the core's serving stack, reporting to
    this process's metrics, plus keys, limits and the audit log."""
    metrics = Metrics()
    stack = ServingStack.open(settings, metrics)
    aredis = connect_async(settings)
    audit = open_audit(settings, aredis)
    services = Services(
        stack=stack,
        service=stack.service,
        redis=aredis,
        books=BookViews(stack.service.catalog),
        metrics=metrics,
        auth=Authenticator(KeyVerifier(aredis), audit),
        limiter=RateLimiter(aredis),
        audit=audit,
        key_reads=LocalRateLimiter(settings.read_rate_limit, what="reads"),
        address_reads=LocalRateLimiter(settings.address_rate_limit, what="reads per address"),
    )
    metrics.add_source(
        CoreCollector(
            {"serving": stack.server.stats, "index": stack.indexes.stats},
            redis_up=lambda: services.redis_up,
        )
    )
    metrics.add_source(OnlineCollector(stack.monitor.stats))
    return services


def delivery_loop(services: Services) -> DeliveryLoop:
    """The decision loop of champion-challenger experiments; a promotion deploys through
    this process's ModelServer (hot-swapped at once, the others follow their watcher)."""
    stack = services.stack
    return DeliveryLoop(
        stack.settings, stack.experiments, stack.registry, stack.redis, promote=stack.server.deploy
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    services = await asyncio.to_thread(build_services, settings)
    app.state.services = services
    # The process now holds ~400k long-lived objects (MLflow, pandas, the schema). A
    # full collection walks them all (~240 ms measured: a p99 spike for every request
    # in flight); frozen, they are skipped. Request garbage is still collected.
    gc.collect()
    gc.freeze()
    log.info("gbrec API ready: serving %s (%s)", services.serving_label(), settings.env)
    sweeper = asyncio.create_task(
        run_sweeper(services.experiments, settings.experiment_snapshot_seconds)
    )
    flusher = asyncio.create_task(services.monitor.run())
    delivery = asyncio.create_task(
        run_delivery_loop(
            delivery_loop(services),
            services.audit,
            alert_notifier(settings),
            settings.experiment_sweep_seconds,
        )
    )
    try:
        yield
    finally:
        for task in (sweeper, flusher, delivery):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await services.monitor.close()  # the last half second of served responses
        await asyncio.to_thread(services.stack.close)
        await services.redis.aclose()
