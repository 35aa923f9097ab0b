"""Strawberry's ASGI view with gbrec's context, orjson and strict body handling."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from gbrec_graphql.auth import key_from_headers
from gbrec_graphql.context import Context
from gbrec_graphql.security import ensure_coded
from gbrec_graphql.services import Services


class GbrecGraphQL(GraphQL[Context, None]):
    """``/graphql``: services come from ``request.app.state`` (set by the lifespan)."""

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def parse_http_body(self, request: Any) -> Any:
        try:
            return await super().parse_http_body(request)
        except (AttributeError, TypeError, ValueError) as e:
            # Valid JSON of the wrong shape (a string, a list of numbers...) is still
            # the client's mistake: 400, never a 500.
            raise HTTPException(400, "The request body must be a GraphQL request object") from e

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        assert isinstance(request, Request) and isinstance(response, Response)
        return Context(
            services=services,
            request=request,
            response=response,
            experiment_header=request.headers.get("x-experiment-id"),
            api_key=key_from_headers(request.headers),
        )

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            production = request.app.state.services.production
            result.errors = [ensure_coded(e, production=production) for e in result.errors]
        return process_result(result)
