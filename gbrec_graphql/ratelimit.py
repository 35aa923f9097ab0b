"""Per-key token buckets in Redis, so every API process shares one budget per key.

The bucket lives in one Redis hash per (key id, bucket name) and is updated by a Lua
script, which makes read-refill-spend atomic without a lock; the script reads Redis'
own clock so skew between API hosts cannot mint tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.asyncio as aioredis

from gbrec_core.errors import UnavailableError
from gbrec_graphql.errors import RateLimitedError

_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, tostring(retry)}
"""


@dataclass(frozen=True)
class BucketConfig:
    """``per_minute`` requests per key per minute, with bursts up to the same number."""

    name: str
    per_minute: int


class RateLimiter:
    """Spends one token per call; raises RateLimitedError when the bucket is empty."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._script = client.register_script(_TOKEN_BUCKET)

    async def spend(self, key_id: str, bucket: BucketConfig) -> None:
        rate = bucket.per_minute / 60.0
        try:
            allowed, retry = await self._script(
                keys=[f"gbrec:ratelimit:{bucket.name}:{key_id}"],
                args=[bucket.per_minute, rate],
            )
        except (redis.RedisError, OSError) as e:
            raise UnavailableError("rate limiter unavailable: Redis unreachable") from e
        if int(allowed) != 1:
            wait = float(retry)
            raise RateLimitedError(
                f"rate limit of {bucket.per_minute} {bucket.name} per minute exceeded; "
                f"retry in {wait:.1f}s",
                retry_after=wait,
            )
