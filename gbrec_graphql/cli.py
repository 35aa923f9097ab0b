"""CLI command contributed by gbrec_graphql: ``gbrec serve``."""

from __future__ import annotations

import logging
from pathlib import Path
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
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="PEM certificate: serve HTTPS (GBREC_SSL_CERTFILE).")
    ] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="PEM private key (GBREC_SSL_KEYFILE).")
    ] = None,
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
        **tls_options(settings, ssl_certfile, ssl_keyfile),
    }
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    warn_if_exposed(settings, str(options["host"]))
    if n > 1:
        # Several processes need an import string: each worker calls the factory and
        # builds its own services from the same GBREC_* environment.
        uvicorn.run("gbrec_graphql.app:create_app", factory=True, workers=n, **options)  # type: ignore[arg-type]
        return
    from gbrec_graphql.app import create_app

    uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]


def tls_options(settings: Settings, certfile: Path | None, keyfile: Path | None) -> dict[str, str]:
    """uvicorn's TLS options from the flags or settings; both files or neither."""
    cert, key = certfile or settings.ssl_certfile, keyfile or settings.ssl_keyfile
    if (cert is None) != (key is None):
        raise typer.BadParameter("give both --ssl-certfile and --ssl-keyfile (or neither)")
    for path in (cert, key):
        if path is not None and not path.is_file():
            raise typer.BadParameter(f"{path} is not a readable file")
    return (
        {} if cert is None or key is None else {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    )


def warn_if_exposed(settings: Settings, host: str) -> None:
    """Dev mode answers keyless reads and shows GraphiQL: say so loudly off loopback."""
    if settings.env != "production" and host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("gbrec_graphql").warning(
            "DEV MODE on %s: reads need no key and GraphiQL is open to anyone who can reach "
            "this address; set GBREC_ENV=production for a deployment",
            host,
        )


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
    app.command("serve")(serve)
