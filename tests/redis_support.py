"""Which Redis the tests use: by default the embedded server of each test's GBREC_HOME;
with ``GBREC_TEST_REDIS_URL`` set (the production profile's Redis Cluster pass) that
server or cluster, emptied before each test that takes a fresh client.

``tests/conftest.py`` copies ``GBREC_TEST_REDIS_URL`` into ``GBREC_REDIS_URL`` for the
session, so every ``Settings`` a test builds (and every ``gbrec`` it runs) uses it, and
skips the tests marked ``embedded_redis``: they stop, kill or read the files of the
embedded server, which a URL does not have. The variable is a separate name on purpose:
a ``GBREC_REDIS_URL`` left in a shell must never get a database flushed by ``make test``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from gbrec_core.settings import Settings
from gbrec_core.store import RedisClient, connect, stop_server

TEST_REDIS_URL = os.environ.get("GBREC_TEST_REDIS_URL") or None
EMBEDDED_ONLY = (
    "stops, kills or reads the files of the embedded redis-server; "
    "GBREC_TEST_REDIS_URL points the suite at another Redis"
)


def fresh_client(settings: Settings) -> Iterator[RedisClient]:
    """A client of an empty database: the home's new embedded server (stopped after
    the test), or the GBREC_TEST_REDIS_URL one flushed (every primary of a cluster)."""
    client = connect(settings)
    if TEST_REDIS_URL:
        client.flushdb()
    yield client
    client.close()
    stop_server(settings)


def empty_database(settings: Settings) -> None:
    """Flush the GBREC_TEST_REDIS_URL database (a fixture's fresh start, or a "new"
    Redis to restore into); with the embedded server a new home is already empty."""
    if TEST_REDIS_URL:
        client = connect(settings)
        client.flushdb()
        client.close()


def redis_env() -> dict[str, str]:
    """What a subprocess given an environment of its own needs to reach the tests' Redis."""
    return {"GBREC_REDIS_URL": TEST_REDIS_URL} if TEST_REDIS_URL else {}
