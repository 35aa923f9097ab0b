"""Connections to gbrec's Redis: ``GBREC_REDIS_URL`` or the shared embedded server."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from gbrec_core.errors import UnavailableError
from gbrec_core.settings import Settings
from gbrec_core.store.embedded import ensure_server

# Short timeouts so a dead server turns into UnavailableError quickly instead of
# hanging a request; callers that need longer operations pass their own client.
_CONNECT_TIMEOUT_S = 2.0
_SOCKET_TIMEOUT_S = 5.0
# redis-py 8 retries 3x with backoff up to seconds; a dead server should surface fast
# (the experiments store then buffers), so retry twice within ~30 ms only.
_RETRIES = 2
_BACKOFF_CAP_S = 0.02


def _common(*, is_async: bool) -> dict[str, object]:
    backoff = ExponentialBackoff(cap=_BACKOFF_CAP_S, base=0.005)
    retry = AsyncRetry(backoff, _RETRIES) if is_async else Retry(backoff, _RETRIES)
    return {
        "decode_responses": True,
        "socket_connect_timeout": _CONNECT_TIMEOUT_S,
        "socket_timeout": _SOCKET_TIMEOUT_S,
        "retry": retry,
    }


@dataclass(frozen=True)
class StoreHealth:
    """Outcome of :func:`health_check`."""

    ok: bool
    latency_ms: float | None
    backend: str
    error: str | None = None


def backend_name(settings: Settings) -> str:
    """``"url"`` when GBREC_REDIS_URL is set, else ``"embedded"``."""
    return "url" if settings.redis_url else "embedded"


def connect(settings: Settings) -> redis.Redis:
    """A synchronous client (``decode_responses=True``: str in, str out)."""
    common = _common(is_async=False)
    try:
        if settings.redis_url:
            return redis.Redis.from_url(settings.redis_url, **common)
        sock = ensure_server(settings)
    except (redis.RedisError, ValueError) as e:
        raise UnavailableError(f"cannot connect to Redis: {e}") from e
    return redis.Redis(unix_socket_path=str(sock), **common)  # type: ignore[arg-type]


def connect_async(settings: Settings) -> aioredis.Redis:
    """An asyncio client. Starting the embedded server (if needed) blocks briefly once."""
    common = _common(is_async=True)
    try:
        if settings.redis_url:
            return aioredis.Redis.from_url(settings.redis_url, **common)  # type: ignore[arg-type]
        sock = ensure_server(settings)
    except (redis.RedisError, ValueError) as e:
        raise UnavailableError(f"cannot connect to Redis: {e}") from e
    return aioredis.Redis(unix_socket_path=str(sock), **common)  # type: ignore[arg-type]


def health_check(client: redis.Redis, *, backend: str = "redis") -> StoreHealth:
    """PING the server; never raises (for /readyz)."""
    start = time.perf_counter()
    try:
        client.ping()
    except (redis.RedisError, OSError) as e:
        return StoreHealth(ok=False, latency_ms=None, backend=backend, error=str(e))
    return StoreHealth(ok=True, latency_ms=(time.perf_counter() - start) * 1e3, backend=backend)


async def ahealth_check(client: aioredis.Redis, *, backend: str = "redis") -> StoreHealth:
    """Async :func:`health_check`."""
    start = time.perf_counter()
    try:
        await client.ping()
    except (redis.RedisError, OSError) as e:
        return StoreHealth(ok=False, latency_ms=None, backend=backend, error=str(e))
    return StoreHealth(ok=True, latency_ms=(time.perf_counter() - start) * 1e3, backend=backend)
