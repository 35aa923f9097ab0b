"""Strawberry's ASGI view with gbrec's context, orjson and strict body handling."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types import ExecutionResult

from gbrec_core.access import Scope as AccessScope
from gbrec_core.access import require
from gbrec_core.errors import GbrecError
from gbrec_graphql.auth import key_from_headers
from gbrec_graphql.context import Context
from gbrec_graphql.finish import finish_request
from gbrec_graphql.internals import bare_response, cache_body
from gbrec_graphql.security import ensure_coded

if TYPE_CHECKING:
    from gbrec_graphql.schema import GbrecSchema


class GbrecGraphQL(GraphQL[Context, None]):
    """``/graphql``: services come from ``request.app.state`` (set by the lifespan).

    A JSON POST of a query the schema has compiled (gbrec_graphql.compiled) is answered
    here directly; every other request, and any the compiled path declines before a
    resolver ran, goes through Strawberry with the body replayed.
    """

    def __init__(self, schema: GbrecSchema, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.compiled = schema.compiled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (refusal := await _closed_door(scope)) is not None:
            await _send_refusal(send, refusal)
            return
        if (
            self.compiled is not None
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and _json_content(scope)
        ):
            request = Request(scope, receive)
            body = await _read_body(scope, receive)
            cache_body(request, body)  # for later readers of Request.body()
            if await self._compiled_response(request, body, send):
                return
            receive = _replay(body)
        await super().__call__(scope, receive, send)

    async def _compiled_response(self, request: Request, body: bytes, send: Send) -> bool:
        """Answer through the compiled path; False when Strawberry has to (nothing was
        sent and no resolver ran)."""
        assert self.compiled is not None
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if type(payload) is not dict:
            return False
        query, name, variables = (
            payload.get("query"),
            payload.get("operationName"),
            payload.get("variables"),
        )
        if type(query) is not str or not (name is None or type(name) is str):
            return False
        if not (variables is None or type(variables) is dict):
            return False
        started = time.perf_counter()
        compiled = self.compiled.get(query, name)
        if compiled is None:
            return False
        sub_response = bare_response()
        context = _context(request, sub_response)
        services = context.services
        fallbacks = services.metrics.fast_path_fallbacks
        result = await self.compiled.execute(compiled, context, variables, fallbacks)
        if result is None:
            return False
        fallbacks.compiled += 1
        finish_request(
            result,
            metrics=services.metrics,
            production=services.production,
            query=query,
            document=compiled.document,
            operation_name=name,
            started=started,
            context=context,
        )
        await _send_json(send, self.encode_json(process_result(result)), sub_response)
        return True

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

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return bare_response()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request) and isinstance(response, Response)
        return _context(request, response)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors:
            production = request.app.state.services.production
            result.errors = [ensure_coded(e, production=production) for e in result.errors]
        return process_result(result)


async def _send_json(send: Send, body: bytes, sub_response: Response) -> None:
    """What ``create_response`` + Starlette's ``Response`` send, without building one:
    status and headers a resolver set on the context's response are kept."""
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        *sub_response.raw_headers,
    ]
    status = sub_response.status_code or 200
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    if sub_response.background is not None:
        await sub_response.background()


_PRINCIPAL = "gbrec.principal"


async def _closed_door(scope: Scope) -> GbrecError | None:
    """In production every operation needs a key (read scope or higher): the refusal
    for this request, before anything is parsed, or None to go on. The verified caller
    is kept in the request state, so the Context does not verify the key again."""
    services = scope["app"].state.services
    if not services.production:
        return None
    headers = _headers(scope, frozenset({b"x-api-key", b"authorization"}))
    client = scope.get("client")
    try:
        principal = await services.auth.principal(
            key_from_headers(headers), client[0] if client else "unknown"
        )
        require(principal, AccessScope.READ)
    except GbrecError as e:
        return e
    scope.setdefault("state", {})[_PRINCIPAL] = principal
    return None


async def _send_refusal(send: Send, error: GbrecError) -> None:
    """401 (no valid key) or 403 (no read scope), with the GraphQL error body."""
    body = orjson.dumps(
        {"data": None, "errors": [{"message": str(error), "extensions": {"code": error.code}}]}
    )
    status = 401 if error.code == "UNAUTHENTICATED" else 403
    headers = [
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
        (b"www-authenticate", b'Bearer realm="gbrec"'),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope, wanted: frozenset[bytes]) -> dict[str, str]:
    """The ``wanted`` headers, read in one pass over the raw ASGI headers (first
    occurrence wins, as ``Headers.get`` does)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in wanted:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


_CONTEXT_HEADERS = frozenset({b"x-api-key", b"authorization", b"x-experiment-id"})


def _context(request: Request, response: Response) -> Context:
    """The request's Context: services from the app state (set by the lifespan) and the
    three headers it needs."""
    found = _headers(request.scope, _CONTEXT_HEADERS)
    return Context(
        services=request.scope["app"].state.services,
        request=request,
        response=response,
        experiment_header=found.get("x-experiment-id"),
        read_only=request.scope["method"] == "GET",
        api_key=key_from_headers(found),
        _principal=request.scope.get("state", {}).get(_PRINCIPAL),
    )


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """``await Request(scope, receive).body()``, shortcut for the common body in one
    message (an async generator per request saved); anything else goes through
    Starlette's reader, this first message included."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        return body
    first: Message | None = message

    async def resume() -> Message:
        nonlocal first
        if first is not None:
            taken, first = first, None
            return taken
        return await receive()

    return await Request(scope, resume).body()


def _json_content(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _replay(body: bytes) -> Receive:
    """A ``receive`` that delivers the already-read ``body`` once, then waits like the
    server's (for the disconnect that never matters to a finished request)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive
