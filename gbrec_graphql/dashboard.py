"""The A/B dashboard page: one HTML file plus its JS and CSS, served by the API.

Everything is shipped inside the package (no CDN, no web fonts) because
deployments are often offline; the page talks to ``POST /graphql`` only.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

# The page draws its charts as inline SVG and loads nothing from elsewhere, so the
# policy can forbid every external origin and any inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS: dict[str, str] = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
PAGE = "dashboard.html"


@lru_cache(maxsize=len(ASSETS) + 1)
def read_static(name: str) -> bytes:
    """Bytes of a file shipped in ``gbrec_graphql/static`` (read once per process)."""
    return resources.files("gbrec_graphql").joinpath("static", name).read_bytes()


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # Revalidate every time: after a deploy the page and its script must match.
        "Cache-Control": "no-cache",
    }


async def dashboard_page(request: Request) -> Response:
    return Response(read_static(PAGE), media_type="text/html; charset=utf-8", headers=_headers())


async def dashboard_slash(request: Request) -> Response:
    # The page links its assets relative to /dashboard; /dashboard/ would break them.
    return RedirectResponse(request.url.replace(path=request.url.path.rstrip("/")), 308)


async def dashboard_asset(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = ASSETS.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(read_static(name), media_type=media_type, headers=_headers())


def dashboard_routes() -> list[Route]:
    """Routes for ``/dashboard`` and its static files; add them to the Starlette app."""
    return [
        Route("/dashboard", dashboard_page, methods=["GET", "HEAD"], name="dashboard"),
        Route("/dashboard/", dashboard_slash, methods=["GET", "HEAD"]),
        Route(
            "/dashboard/static/{name}",
            dashboard_asset,
            methods=["GET", "HEAD"],
            name="dashboard_static",
        ),
    ]
