"""In-process token buckets for reads (per key and per client address).

Reads are the hot path and must keep answering when Redis is down, so their budget is
kept in memory, per API process: with N processes a client may spend up to N times the
configured rate. (Mutations and events share one Redis budget: gbrec_core.access.ratelimit.)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from gbrec_core.errors import RateLimitedError

MAX_TRACKED = 100_000


class LocalRateLimiter:
    """``per_minute`` calls per name per minute with bursts up to the same number."""

    def __init__(
        self, per_minute: int, *, what: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.what = what
        self._rate = per_minute / 60.0
        self._clock = clock
        # name -> (tokens, last refill); least recently used first, so the oldest go.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def spend(self, name: str) -> None:
        """Take one token for ``name``; RateLimitedError when none is left."""
        now = self._clock()
        tokens, last = self._buckets.pop(name, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._remember(name, tokens, now)
            wait = (1.0 - tokens) / self._rate
            raise RateLimitedError(
                f"rate limit of {self.per_minute} {self.what} per minute exceeded; "
                f"retry in {wait:.1f}s",
                retry_after=wait,
            )
        self._remember(name, tokens - 1.0, now)

    def _remember(self, name: str, tokens: float, now: float) -> None:
        self._buckets[name] = (tokens, now)
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
