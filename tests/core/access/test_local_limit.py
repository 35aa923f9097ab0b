"""Read budgets kept in memory: bursts, refill, and a bounded table."""

from __future__ import annotations

import pytest

from gbrec_core.access import local_limit
from gbrec_core.access.local_limit import LocalRateLimiter
from gbrec_core.errors import RateLimitedError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refused_then_refilled() -> None:
    clock = Clock()
    limiter = LocalRateLimiter(3, what="reads", clock=clock)
    for _ in range(3):
        limiter.spend("k")
    with pytest.raises(RateLimitedError, match="3 reads per minute") as refused:
        limiter.spend("k")
    assert refused.value.retry_after == pytest.approx(20.0)
    limiter.spend("other")  # budgets are per name
    clock.now += 20.0
    limiter.spend("k")
    with pytest.raises(RateLimitedError):
        limiter.spend("k")


def test_table_forgets_least_recently_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_limit, "MAX_TRACKED", 2)
    limiter = LocalRateLimiter(1, what="reads", clock=Clock())
    limiter.spend("a")
    limiter.spend("b")
    limiter.spend("c")  # "a" is forgotten: a fresh budget
    limiter.spend("a")
    with pytest.raises(RateLimitedError):
        limiter.spend("c")
