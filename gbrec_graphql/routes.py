"""The non-GraphQL routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gbrec_core.access import Scope, require
from gbrec_core.errors import GbrecError
from gbrec_core.store import ahealth_check
from gbrec_graphql.auth import key_from_headers
from gbrec_graphql.services import Services

_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


async def healthz(request: Request) -> Response:
    """The process is up and its event loop answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 once a model version is loaded (popularity fallback alone is not ready)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    loaded = services.server_ready()
    version = services.serving_label()
    body = {
        "status": "ready" if loaded else "no model loaded",
        "modelVersion": version,
        # Informational: until then the model scores each request (slower, not wrong).
        "precomputed": services.server.precomputed.get(version) is not None,
    }
    return JSONResponse(body, status_code=200 if loaded else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text; in production only for a key with the read scope (a scraper
    sends it as ``Authorization: Bearer``)."""
    services: Services = request.app.state.services
    if services.reads_need_key:
        try:
            key = key_from_headers(request.headers)
            address = request.client.host if request.client else "unknown"
            require(await services.auth.principal(key, address), Scope.READ)
        except GbrecError as e:
            return JSONResponse({"error": e.code}, status_code=_STATUS.get(e.code, 503))
    health = await ahealth_check(services.redis)
    services.redis_up = 1.0 if health.ok else 0.0
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
