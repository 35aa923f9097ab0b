"""CLI commands contributed by gbrec_graphql: ``gbrec serve`` and ``gbrec keys create``."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from gbrec_core.settings import Settings

keys_app = typer.Typer(help="API keys (stored hashed in Redis).", no_args_is_help=True)


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

    settings = Settings()
    n = workers or settings.api_workers
    options = {
        "host": host or settings.api_host,
        "port": settings.api_port if port is None else port,
        "log_level": log_level,
        "lifespan": "on",
        "access_log": False,
    }
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if n > 1:
        # Several processes need an import string: each worker calls the factory and
        # builds its own services from the same GBREC_* environment.
        uvicorn.run("gbrec_graphql.app:create_app", factory=True, workers=n, **options)  # type: ignore[arg-type]
        return
    from gbrec_graphql.app import create_app

    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


@keys_app.command("create")
def create(
    scope: Annotated[str, typer.Option(help="admin, events or read.")],
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"key": ..., "scope": ...}.')
    ] = False,
) -> None:
    """Create an API key and print it once (only its SHA-256 is stored)."""
    from gbrec_core.access import Scope, create_key
    from gbrec_core.errors import GbrecError
    from gbrec_core.store import connect

    try:
        parsed = Scope.parse(scope)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--scope") from e
    try:
        new = create_key(connect(Settings()), parsed)
    except GbrecError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps({"key": new.key, "scope": new.scope.label}))
    else:
        typer.echo(f"{new.scope.label} key (shown once, store it now):\n{new.key}")


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
