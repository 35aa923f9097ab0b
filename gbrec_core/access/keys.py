"""API keys: creation, hashed storage in Redis, verification and scopes.

A key looks like ``gbr_<key id>_<secret>``. Only the SHA-256 of the whole key is
stored, under its key id in the Redis hash ``gbrec:apikeys``; verification fetches
that record by id and compares digests with :func:`hmac.compare_digest`, so a wrong
key costs the same time however many leading bytes it shares with a real one. Redis
(not a file) holds the keys because every API process, on any machine, must see a key
the moment ``gbrec keys create`` prints it. The key id (never the secret) is what
audit records and logs show.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
import redis.asyncio as aioredis

from gbrec_core.errors import AuthError, ForbiddenError
from gbrec_core.store.errors import async_store_call, store_call

KEYS_HASH = "gbrec:apikeys"
PREFIX = "gbr"
_CACHE_TTL_S = 5.0  # bounds how long a revoked key keeps working in one process


class Scope(enum.IntEnum):
    """Ordered: a higher scope implies every lower one (admin > events > read)."""

    READ = 1
    EVENTS = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Scope:
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(f"unknown scope {name!r}; use admin, events or read") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (safe to log) and its scope."""

    key_id: str
    scope: Scope

    def allows(self, needed: Scope) -> bool:
        return self.scope >= needed


@dataclass(frozen=True)
class NewKey:
    """A freshly created key; ``secret`` is the whole key and is shown exactly once."""

    key: str
    key_id: str
    scope: Scope


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(parts[2]) < 16:
        return None
    return f"{PREFIX}_{parts[1]}"


@store_call("API key store")
def create_key(client: redis.Redis, scope: Scope) -> NewKey:
    """Mint a key, store its digest and scope, and return it (the only copy)."""
    key_id = f"{PREFIX}_{secrets.token_hex(6)}"
    key = f"{key_id}_{secrets.token_urlsafe(32)}"
    record = {
        "sha256": _digest(key),
        "scope": scope.label,
        "created_at": datetime.now(UTC).isoformat(),
    }
    client.hset(KEYS_HASH, key_id, json.dumps(record))
    return NewKey(key=key, key_id=key_id, scope=scope)


class KeyVerifier:
    """Checks presented keys against Redis, caching good answers briefly."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, str, Scope]] = {}

    async def verify(self, key: str | None) -> Principal:
        """The principal for ``key``; AuthError when absent, malformed or unknown."""
        if not key:
            raise AuthError("an API key is required (X-API-Key or Authorization: Bearer)")
        key_id = split_key(key)
        if key_id is None:
            raise AuthError("the API key is malformed or unknown")
        digest, scope = await self._record(key_id)
        if not hmac.compare_digest(digest, _digest(key)):
            raise AuthError("the API key is malformed or unknown")
        return Principal(key_id=key_id, scope=scope)

    async def _record(self, key_id: str) -> tuple[str, Scope]:
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        raw = await self._fetch(key_id)
        if raw is None:
            raise AuthError("the API key is malformed or unknown")
        record = json.loads(raw)
        digest, scope = str(record["sha256"]), Scope.parse(str(record["scope"]))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key_id] = (time.monotonic() + _CACHE_TTL_S, digest, scope)
        return digest, scope

    @async_store_call("API key store")
    async def _fetch(self, key_id: str) -> str | None:
        raw = await self._client.hget(KEYS_HASH, key_id)
        return None if raw is None else str(raw)


def require(principal: Principal, needed: Scope) -> Principal:
    """Raise FORBIDDEN unless ``principal`` holds ``needed`` (or a higher scope)."""
    if not principal.allows(needed):
        raise ForbiddenError(
            f"this operation needs the '{needed.label}' scope; "
            f"the key has '{principal.scope.label}'"
        )
    return principal
