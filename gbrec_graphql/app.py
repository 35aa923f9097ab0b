"""The Starlette application: ``create_app(settings)``.

``create_app`` only wires routes; the lifespan connects Redis, loads the champion,
the vector index and the book catalogue once. ``gbrec serve --workers N`` starts it
through the import string ``gbrec_graphql.app:create_app`` (a factory), so each
worker builds its own services from the same ``GBREC_*`` settings.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from gbrec_core.settings import Settings
from gbrec_graphql import routes
from gbrec_graphql.dashboard import dashboard_routes
from gbrec_graphql.lifespan import lifespan
from gbrec_graphql.middleware import BodySizeLimit
from gbrec_graphql.schema import build_schema
from gbrec_graphql.view import GbrecGraphQL


def create_app(
    settings: Settings | None = None, *, extra_routes: list[BaseRoute] | None = None
) -> Starlette:
    """The API app for ``settings`` (read from ``GBREC_*`` when omitted).

    ``extra_routes`` lets other packages (e.g. the A/B dashboard) mount pages that use
    the same services through ``request.app.state.services``.
    """
    settings = settings or Settings()
    dev = settings.env != "production"
    graphql = GbrecGraphQL(
        build_schema(settings),
        graphql_ide="graphiql" if dev else None,
        allow_queries_via_get=True,
    )
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", routes.healthz, methods=["GET"]),
            Route("/readyz", routes.readyz, methods=["GET"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
            *dashboard_routes(),
            *(extra_routes or []),
        ],
        middleware=[Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
