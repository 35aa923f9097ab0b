"""Per-key token buckets in Redis, so every API process shares one budget per key.

The bucket lives in one Redis hash per (key id, bucket name) and is updated by a Lua
script, which makes read-refill-spend atomic without a lock; the script reads Redis'
own clock so skew between API hosts cannot mint tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from gbrec_core.errors import RateLimitedError
from gbrec_core.store.client import AsyncRedisClient
from gbrec_core.store.errors import async_store_call
from gbrec_core.store.scripts import lua


@dataclass(frozen=True)
class BucketConfig:
    """``per_minute`` requests per key per minute, with bursts up to the same number."""

    name: str
    per_minute: int


class RateLimiter:
    """Spends one token per call; raises RateLimitedError when the bucket is empty."""

    def __init__(self, client: AsyncRedisClient) -> None:
        self._script = client.register_script(lua("gbrec_core.access", "token_bucket"))

    async def spend(self, key_id: str, bucket: BucketConfig) -> None:
        allowed, retry = await self._take(f"gbrec:ratelimit:{bucket.name}:{key_id}", bucket)
        if int(allowed) != 1:
            wait = float(retry)
            raise RateLimitedError(
                f"rate limit of {bucket.per_minute} {bucket.name} per minute exceeded; "
                f"retry in {wait:.1f}s",
                retry_after=wait,
            )

    @async_store_call("rate limiter")
    async def _take(self, key: str, bucket: BucketConfig) -> tuple[int, str]:
        allowed, retry = await self._script(
            keys=[key], args=[bucket.per_minute, bucket.per_minute / 60.0]
        )
        return int(allowed), str(retry)
