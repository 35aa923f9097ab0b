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
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

from gbrec_core.errors import AuthError, ForbiddenError, InvalidInputError, NotFoundError
from gbrec_core.store.client import AsyncRedisClient, RedisClient
from gbrec_core.store.errors import async_store_call, store_call

KEYS_HASH = "gbrec:apikeys"
PREFIX = "gbr"
_CACHE_TTL_S = 5.0  # bounds how long a revoked or expired key keeps working in one process
UNKNOWN = "the API key is malformed or unknown"


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
    """A freshly created key; ``key`` is the whole secret and is shown exactly once."""

    key: str
    key_id: str
    scope: Scope
    expires_at: datetime | None = None


@dataclass(frozen=True)
class KeyInfo:
    """What ``gbrec keys list`` shows: never the key, only its id and lifecycle."""

    key_id: str
    scope: Scope
    created_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def refusal(self, now: datetime) -> str | None:
        """Why a presented key with this record is refused (None: it is good)."""
        status = self.status(now)
        return None if status == "active" else f"the API key was {status}"

    def as_json(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.key_id,
            "scope": self.scope.label,
            "status": self.status(now),
            "createdAt": _iso(self.created_at),
            "expiresAt": _iso(self.expires_at),
            "revokedAt": _iso(self.revoked_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _when(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def key_info(key_id: str, raw: str) -> KeyInfo:
    record = json.loads(raw)
    return KeyInfo(
        key_id=key_id,
        scope=Scope.parse(str(record["scope"])),
        created_at=_when(record.get("created_at")),
        expires_at=_when(record.get("expires_at")),
        revoked_at=_when(record.get("revoked_at")),
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The key id of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or len(parts[2]) < 16:
        return None
    return f"{PREFIX}_{parts[1]}"


@store_call("API key store")
def create_key(
    client: RedisClient, scope: Scope, *, expires_in_days: float | None = None
) -> NewKey:
    """Mint a key, store its digest, scope and expiry, and return it (the only copy)."""
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidInputError("--expires-in must be a positive number of days")
    key_id = f"{PREFIX}_{secrets.token_hex(6)}"
    key = f"{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    expires = None if expires_in_days is None else now + timedelta(days=expires_in_days)
    record = {
        "sha256": _digest(key),
        "scope": scope.label,
        "created_at": now.isoformat(),
        "expires_at": _iso(expires),
    }
    client.hset(KEYS_HASH, key_id, json.dumps(record))
    return NewKey(key=key, key_id=key_id, scope=scope, expires_at=expires)


@store_call("API key store")
def list_keys(client: RedisClient) -> list[KeyInfo]:
    """Every key's id, scope and lifecycle, oldest first."""
    raw = cast(dict[str, str], client.hgetall(KEYS_HASH))
    found = [key_info(key_id, record) for key_id, record in raw.items()]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(found, key=lambda k: (k.created_at or epoch, k.key_id))


@store_call("API key store")
def revoke_key(client: RedisClient, key_id: str) -> KeyInfo:
    """Mark ``key_id`` revoked (kept for the record); every process refuses it within
    the verifier's cache time. Revoking twice keeps the first time."""
    raw = client.hget(KEYS_HASH, key_id)
    if raw is None:
        raise NotFoundError(f"no API key with id {key_id!r} (see `gbrec keys list`)")
    record = json.loads(str(raw))
    record.setdefault("revoked_at", None)
    record["revoked_at"] = record["revoked_at"] or datetime.now(UTC).isoformat()
    client.hset(KEYS_HASH, key_id, json.dumps(record))
    return key_info(key_id, json.dumps(record))


class KeyVerifier:
    """Checks presented keys against Redis, caching good answers briefly.

    A key verified in the last ``_CACHE_TTL_S`` seconds is answered from memory (no
    digest, no Redis, no record lookup: the hot path of every production read); it
    still stops working at its expiry time, and a revocation reaches this process
    when the cached answer runs out, as for the record cache.
    """

    def __init__(self, client: AsyncRedisClient) -> None:
        self._client = client
        self._cache: dict[str, tuple[float, str, KeyInfo]] = {}
        # presented key -> (cache deadline (monotonic), expiry (epoch s), principal)
        self._verified: dict[str, tuple[float, float, Principal]] = {}

    async def verify(self, key: str | None) -> Principal:
        """The principal for ``key``; AuthError when absent, malformed, unknown, revoked
        or expired (the last two only to a caller holding the right secret)."""
        hit = self._verified.get(key) if key else None
        if hit is not None and hit[0] > time.monotonic() and hit[1] > time.time():
            return hit[2]
        if not key:
            raise AuthError("an API key is required (X-API-Key or Authorization: Bearer)")
        key_id = split_key(key)
        if key_id is None:
            raise AuthError(UNKNOWN)
        deadline, digest, info = await self._record(key_id)
        if not hmac.compare_digest(digest, _digest(key)):
            raise AuthError(UNKNOWN)
        if refusal := info.refusal(datetime.now(UTC)):
            raise AuthError(refusal)
        principal = Principal(key_id=key_id, scope=info.scope)
        expiry = info.expires_at.timestamp() if info.expires_at else float("inf")
        _bounded_put(self._verified, key, (deadline, expiry, principal))
        return principal

    async def _record(self, key_id: str) -> tuple[float, str, KeyInfo]:
        """(cache deadline, digest, record) of ``key_id``, from memory or Redis."""
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached
        raw = await self._fetch(key_id)
        if raw is None:
            raise AuthError(UNKNOWN)
        entry = (
            time.monotonic() + _CACHE_TTL_S,
            str(json.loads(raw)["sha256"]),
            key_info(key_id, raw),
        )
        _bounded_put(self._cache, key_id, entry)
        return entry

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


_V = TypeVar("_V")


def _bounded_put(cache: dict[str, _V], key: str, value: _V) -> None:
    """``cache[key] = value``, emptying a cache that grew past 10,000 entries first
    (random keys must not grow a process without bound)."""
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = value
