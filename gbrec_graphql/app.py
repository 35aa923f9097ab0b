"""The Starlette application: ``create_app(settings)``.

``create_app`` only wires routes; the lifespan connects Redis, loads the champion,
the vector index and the book catalogue once. ``gbrec serve --workers N`` starts it
through the import string ``gbrec_graphql.app:create_app`` (a factory), so each
worker builds its own services from the same ``GBREC_*`` settings.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gbrec_core.settings import Settings
from gbrec_graphql import routes
from gbrec_graphql.dashboard import dashboard_routes
from gbrec_graphql.internals import RequestBodyLimitMiddleware, ServerErrorMiddleware
from gbrec_graphql.lifespan import lifespan
from gbrec_graphql.middleware import BodySizeLimit
from gbrec_graphql.schema import build_schema
from gbrec_graphql.view import GbrecGraphQL


class GbrecApp(Starlette):
    """Starlette, with ``POST /graphql`` taken past the router.

    Nearly all traffic is that one route. Starlette would pass it through its exception
    middleware, the router (a pattern per route) and the route's send wrapper, ~5% of
    a request's CPU. Here it goes through the same server-error handling and the same
    user middleware (body limit, and any a deployer adds), then straight to the view;
    every other request takes Starlette's normal path.
    """

    def __init__(self, *, graphql: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The ASGI app answering ``POST /graphql`` (set before the first request).
        self.graphql_view = graphql
        self._graphql_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and _route_path(scope) == "/graphql"
        ):
            scope["app"] = self
            if self._graphql_stack is None:
                if self.middleware_stack is None:  # started: add_middleware now refuses
                    self.middleware_stack = self.build_middleware_stack()
                self._graphql_stack = self._build_graphql_stack()
            await self._graphql_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def _build_graphql_stack(self) -> ASGIApp:
        handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        middleware = [Middleware(ServerErrorMiddleware, handler=handler, debug=self.debug)]
        if self.max_body_size is not None:
            middleware.append(
                Middleware(RequestBodyLimitMiddleware, max_body_size=self.max_body_size)
            )
        middleware += self.user_middleware
        app = self.graphql_view
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app


def _route_path(scope: Scope) -> str:
    """The path the router matches: ``root_path`` removed where it prefixes the path
    (what Starlette's ``get_route_path`` computes)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


def create_app(
    settings: Settings | None = None, *, extra_routes: list[BaseRoute] | None = None
) -> GbrecApp:
    """The API app for ``settings`` (read from ``GBREC_*`` when omitted).

    ``extra_routes`` lets other packages (e.g. the A/B dashboard) mount pages that use
    the same services through ``request.app.state.services``.
    """
    settings = settings or Settings()
    dev = settings.env != "production"
    graphql = GbrecGraphQL(
        build_schema(settings),
        graphql_ide="graphiql" if dev else None,
        allow_queries_via_get=dev,
    )
    # Production answers GET /graphql with 405: no query runs from a link or a page.
    graphql_methods = ["GET", "POST"] if dev else ["POST"]
    app = GbrecApp(
        graphql=graphql,
        routes=[
            Route("/graphql", graphql, methods=graphql_methods),
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
