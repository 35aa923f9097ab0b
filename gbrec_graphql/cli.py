"""CLI command contributed by gbrec_graphql: ``gbrec serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from gbrec_core.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (GBREC_API_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port; 0 picks a free one (GBREC_API_PORT).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (GBREC_API_WORKERS).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the GraphQL API (POST /graphql, /healthz, /readyz, /metrics)."""
    import uvicorn

    from gbrec_core.logs import configure_logging, logging_config

    settings = Settings()
    n = workers or settings.api_workers
    # uvicorn applies log_config in every worker it spawns; GBREC_LOG_FORMAT picks the format.
    options = {
        "host": host or settings.api_host,
        "port": settings.api_port if port is None else port,
        "log_level": log_level,
        "log_config": logging_config(settings, log_level),
        "lifespan": "on",
        "access_log": False,  # gbrec_graphql.finish logs each GraphQL request instead
    }
    configure_logging(settings, log_level)
    if n > 1:
        # Several processes need an import string: each worker calls the factory and
        # builds its own services from the same GBREC_* environment.
        uvicorn.run("gbrec_graphql.app:create_app", factory=True, workers=n, **options)  # type: ignore[arg-type]
        return
    from gbrec_graphql.app import create_app

    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
    app.command("serve")(serve)
