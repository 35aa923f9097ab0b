"""Connections to gbrec's Redis: ``GBREC_REDIS_URL`` (one server or a Redis Cluster) or
the shared embedded server."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TypeAlias

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from gbrec_core.errors import UnavailableError
from gbrec_core.settings import Settings
from gbrec_core.store.cluster_url import is_cluster_url, parse_cluster_url
from gbrec_core.store.embedded import ensure_server

#: What gbrec's stores take: a client of one server or of a Redis Cluster.
RedisClient: TypeAlias = redis.Redis | RedisCluster
AsyncRedisClient: TypeAlias = aioredis.Redis | AsyncRedisCluster

# Short timeouts so a dead server turns into UnavailableError quickly instead of
# hanging a request; callers that need longer operations pass their own client.
_CONNECT_TIMEOUT_S = 2.0
_SOCKET_TIMEOUT_S = 5.0
# redis-py 8 retries 3x with backoff up to seconds; a dead server should surface fast
# (the experiments store then buffers), so retry twice within ~30 ms only. On a cluster
# the same Retry is the cluster client's (each retry may refresh the slot map first).
_RETRIES = 2
_BACKOFF_CAP_S = 0.02


def _common(*, is_async: bool, decode_responses: bool = True) -> dict[str, object]:
    backoff = ExponentialBackoff(cap=_BACKOFF_CAP_S, base=0.005)
    retry = AsyncRetry(backoff, _RETRIES) if is_async else Retry(backoff, _RETRIES)
    return {
        "decode_responses": decode_responses,
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
    """``"cluster"`` for a ``redis+cluster://`` URL, ``"url"`` for another
    GBREC_REDIS_URL, else ``"embedded"``."""
    if not settings.redis_url:
        return "embedded"
    return "cluster" if is_cluster_url(settings.redis_url) else "url"


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster | AsyncRedisCluster)


def connect(settings: Settings, *, decode_responses: bool = True) -> RedisClient:
    """A synchronous client (by default ``decode_responses=True``: str in, str out;
    False for bytes, e.g. to read packed binary values).

    A cluster client reads the slot map here, so an unreachable cluster raises
    UnavailableError now; a single server is first contacted by the first command."""
    common = _common(is_async=False, decode_responses=decode_responses)
    try:
        if settings.redis_url and is_cluster_url(settings.redis_url):
            return _cluster(settings.redis_url, common)
        if settings.redis_url:
            return redis.Redis.from_url(settings.redis_url, **common)
        sock = ensure_server(settings)
    except (redis.RedisError, RedisClusterException, ValueError) as e:
        raise UnavailableError(f"cannot connect to Redis: {e}") from e
    return redis.Redis(unix_socket_path=str(sock), **common)  # type: ignore[arg-type]


def connect_async(settings: Settings) -> AsyncRedisClient:
    """An asyncio client (a cluster's slot map is read by the first command). Starting
    the embedded server (if needed) blocks briefly once."""
    common = _common(is_async=True)
    try:
        if settings.redis_url and is_cluster_url(settings.redis_url):
            return _async_cluster(settings.redis_url, common)
        if settings.redis_url:
            return aioredis.Redis.from_url(settings.redis_url, **common)  # type: ignore[arg-type]
        sock = ensure_server(settings)
    except (redis.RedisError, RedisClusterException, ValueError) as e:
        raise UnavailableError(f"cannot connect to Redis: {e}") from e
    return aioredis.Redis(unix_socket_path=str(sock), **common)  # type: ignore[arg-type]


def _cluster(url: str, common: dict[str, object]) -> RedisCluster:
    parsed = parse_cluster_url(url)
    others = [ClusterNode(host, port) for host, port in parsed.nodes[1:]]  # type: ignore[no-untyped-call]
    return RedisCluster.from_url(parsed.first, startup_nodes=others, **common)


def _async_cluster(url: str, common: dict[str, object]) -> AsyncRedisCluster:
    parsed = parse_cluster_url(url)
    others = [AsyncClusterNode(host, port) for host, port in parsed.nodes[1:]]
    return AsyncRedisCluster.from_url(parsed.first, startup_nodes=others, **common)


def key_count(client: RedisClient) -> int:
    """Keys in the database: on a cluster, summed over every primary."""
    if isinstance(client, RedisCluster):
        return int(client.dbsize(target_nodes=RedisCluster.PRIMARIES))
    return int(client.dbsize())


def health_check(client: RedisClient, *, backend: str = "redis") -> StoreHealth:
    """PING the server (every primary of a cluster); never raises (for /readyz)."""
    start = time.perf_counter()
    try:
        if isinstance(client, RedisCluster):
            client.ping(target_nodes=RedisCluster.PRIMARIES)
        else:
            client.ping()
    except (redis.RedisError, RedisClusterException, OSError) as e:
        return StoreHealth(ok=False, latency_ms=None, backend=backend, error=str(e))
    return StoreHealth(ok=True, latency_ms=(time.perf_counter() - start) * 1e3, backend=backend)


async def ahealth_check(client: AsyncRedisClient, *, backend: str = "redis") -> StoreHealth:
    """Async :func:`health_check`."""
    start = time.perf_counter()
    try:
        if isinstance(client, AsyncRedisCluster):
            await client.ping(target_nodes=AsyncRedisCluster.PRIMARIES)
        else:
            await client.ping()
    except (redis.RedisError, RedisClusterException, OSError) as e:
        return StoreHealth(ok=False, latency_ms=None, backend=backend, error=str(e))
    return StoreHealth(ok=True, latency_ms=(time.perf_counter() - start) * 1e3, backend=backend)
