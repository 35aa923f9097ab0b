"""Redis failures turned into gbrec's domain errors, once, at the store that talks to Redis.

Callers above the stores (the experiment service, the recommendation service, the API)
catch :class:`gbrec_core.errors.UnavailableError` and nothing of redis-py:
unreachable (refused, dropped, timed out; on a Redis Cluster also CLUSTERDOWN, a slot
no node serves, no node reachable) becomes :class:`StoreDownError`, anything else Redis
answers with (OOM, a script error, READONLY) :class:`UnavailableError`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import redis
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    RedisClusterUnreachableError,
    SlotNotCoveredError,
)

from gbrec_core.errors import StoreDownError, UnavailableError

#: Errors that mean "Redis is not there now" (writes are buffered and replayed).
UNREACHABLE = (
    redis.ConnectionError,
    redis.TimeoutError,
    ClusterDownError,
    SlotNotCoveredError,
    RedisClusterUnreachableError,
    OSError,
)
P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def redis_errors(what: str) -> Iterator[None]:
    """Translate redis-py's (and the socket's) errors raised inside the block."""
    try:
        yield
    except UNREACHABLE as e:
        raise StoreDownError(f"{what}: Redis unreachable ({e})") from e
    except (redis.RedisError, RedisClusterException) as e:
        raise UnavailableError(f"{what}: Redis error ({e})") from e


def store_call(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a store method so that it raises domain errors only."""

    def decorate(method: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with redis_errors(what):
                return method(*args, **kwargs)

        return wrapper

    return decorate


def async_store_call(
    what: str,
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """:func:`store_call` for coroutine methods."""

    def decorate(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(method)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with redis_errors(what):
                return await method(*args, **kwargs)

        return wrapper

    return decorate
