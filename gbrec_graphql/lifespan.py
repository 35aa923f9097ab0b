"""Building and closing the API's long-lived services (the Starlette lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pandas as pd
from starlette.applications import Starlette

from gbrec_core.data import load_books
from gbrec_core.data.schema import BOOKS_FILE
from gbrec_core.settings import Settings
from gbrec_core.store import connect, connect_async
from gbrec_graphql.audit.store import AuditLog
from gbrec_graphql.auth import KeyVerifier
from gbrec_graphql.books.catalog import BookCatalog
from gbrec_graphql.books.types import BookViews
from gbrec_graphql.experiments.history import run_sweeper
from gbrec_graphql.index.manager import IndexManager
from gbrec_graphql.metrics import CoreCollector, Metrics, OnlineCollector
from gbrec_graphql.ratelimit import RateLimiter
from gbrec_graphql.recommendations.variants import VariantModels
from gbrec_graphql.services import Services

log = logging.getLogger(__name__)


def catalog_folder(settings: Settings) -> Path:
    """Where ``settings.dataset`` lives, without generating or downloading anything.

    The API must start fast and never fetch data; the asset graph (or ``gbrec data``)
    materialises the data set, and until then books show placeholder titles.
    """
    if settings.dataset == "synthetic":
        return settings.data_dir / f"synthetic-{settings.synthetic_scale}"
    if settings.dataset == "goodbooks-10k":
        return settings.data_dir / "goodbooks-10k"
    return Path(settings.dataset).expanduser()


def build_services(settings: Settings) -> Services:
    """Blocking construction (run in a thread): Redis, registry, server, index, catalogue."""
    from gbrec_core.experiments import ExperimentService
    from gbrec_core.monitoring import OnlineMonitor
    from gbrec_core.registry import ModelRegistry
    from gbrec_core.serving import ModelServer

    settings.ensure_home()
    folder = catalog_folder(settings)
    books: pd.DataFrame | None = None
    catalog = BookCatalog.empty()
    if (folder / BOOKS_FILE).is_file():
        books = load_books(folder / BOOKS_FILE)
        catalog = BookCatalog.from_folder(folder)
    else:
        log.warning("no books.csv under %s; book titles will be placeholders", folder)
    registry = ModelRegistry(settings)
    server = ModelServer(settings, registry, books=books)
    server.start()
    indexes = IndexManager(settings, server)
    indexes.ensure()
    aredis = connect_async(settings)
    sync_redis = connect(settings)  # thread-safe pool shared by the blocking services
    experiments = ExperimentService(settings, sync_redis)
    metrics = Metrics()
    monitor = OnlineMonitor.from_settings(settings, sync_redis)
    services = Services(
        settings=settings,
        redis=aredis,
        registry=registry,
        server=server,
        experiments=experiments,
        catalog=catalog,
        books=BookViews(catalog),
        indexes=indexes,
        metrics=metrics,
        keys=KeyVerifier(aredis),
        limiter=RateLimiter(aredis),
        audit=AuditLog(aredis, max_entries=settings.audit_max_entries),
        variants=VariantModels(
            server, metrics.registry, resolve_seconds=settings.experiment_cache_seconds
        ),
        monitor=monitor,
    )
    metrics.add_source(
        CoreCollector(
            {"serving": server.stats, "index": indexes.stats},
            redis_up=lambda: services.redis_up,
        )
    )
    metrics.add_source(OnlineCollector(monitor.stats))
    return services


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
    try:
        yield
    finally:
        for task in (sweeper, flusher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await services.monitor.close()  # the last half second of served responses
        await asyncio.to_thread(services.server.stop)
        services.indexes.close()
        await services.redis.aclose()
