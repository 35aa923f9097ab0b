"""A Redis lease: at most one process acts per sweep period.

``SET key owner NX PX ttl`` succeeds for one caller until the key expires. The lease is
not released after a sweep, so every process sweeping on the same period finds it taken
until the next period: one sweep acts per period whatever the number of API processes.
Correctness does not rest on it (every status change is a compare-and-set); it keeps the
processes from computing the same results and racing for them.
"""

from __future__ import annotations

import uuid

from gbrec_core.store.client import RedisClient
from gbrec_core.store.errors import store_call

LEASE_KEY = "gbrec:delivery:lease"


class Lease:
    def __init__(self, client: RedisClient, *, ttl_seconds: float, key: str = LEASE_KEY) -> None:
        self._r = client
        self.key = key
        self.ttl_ms = max(int(ttl_seconds * 1000), 1)
        self.owner = uuid.uuid4().hex

    @store_call("delivery lease")
    def acquire(self) -> bool:
        """True when this process holds the lease for the next ``ttl_seconds``."""
        return bool(self._r.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    @store_call("delivery lease")
    def holder(self) -> str | None:
        value = self._r.get(self.key)
        return None if value is None else str(value)
