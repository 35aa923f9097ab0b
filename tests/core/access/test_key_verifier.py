"""The key verifier's memory of good keys: fast, yet expiry, revocation and wrong
secrets are never answered from it."""

from __future__ import annotations

import asyncio

import pytest
import redis

from gbrec_core.access import keys
from gbrec_core.access.keys import KeyVerifier, Scope, create_key, revoke_key
from gbrec_core.errors import AuthError
from gbrec_core.settings import Settings
from gbrec_core.store import connect_async


def _verify(settings: Settings, *presented: str, pause: float = 0.0) -> list[object]:
    """Verify each key in turn with one verifier (``pause`` seconds apart); the
    principal, or the AuthError message."""

    async def run() -> list[object]:
        client = connect_async(settings)
        verifier, out = KeyVerifier(client), []
        for number, key in enumerate(presented):
            if number:
                await asyncio.sleep(pause)
            try:
                out.append(await verifier.verify(key))
            except AuthError as e:
                out.append(str(e))
        await client.aclose()
        return out

    return asyncio.run(run())


def test_a_cached_key_still_expires_on_time(settings: Settings, redis_client: redis.Redis) -> None:
    key = create_key(redis_client, Scope.READ, expires_in_days=1.5 / 86_400).key
    first, second = _verify(settings, key, key, pause=1.6)
    assert getattr(first, "key_id", None) == keys.split_key(key)
    assert second == "the API key was expired"


def test_a_revocation_ends_the_cached_answer(
    settings: Settings, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "_CACHE_TTL_S", 0.3)
    key = create_key(redis_client, Scope.READ)

    async def run() -> tuple[object, object]:
        client = connect_async(settings)
        verifier = KeyVerifier(client)
        first = await verifier.verify(key.key)
        revoke_key(redis_client, key.key_id)
        await asyncio.sleep(0.4)  # the cached answer has run out
        with pytest.raises(AuthError) as refused:
            await verifier.verify(key.key)
        await client.aclose()
        return first, str(refused.value)

    first, refusal = asyncio.run(run())
    assert getattr(first, "scope", None) is Scope.READ
    assert refusal == "the API key was revoked"


def test_a_wrong_secret_is_never_answered_from_memory(
    settings: Settings, redis_client: redis.Redis
) -> None:
    key = create_key(redis_client, Scope.ADMIN).key
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    good, bad = _verify(settings, key, forged)
    assert getattr(good, "scope", None) is Scope.ADMIN
    assert bad == keys.UNKNOWN


def test_a_verified_key_is_answered_from_memory(
    settings: Settings, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second read of a good key computes no digest and reads no record."""
    key = create_key(redis_client, Scope.READ).key

    async def run() -> tuple[object, object]:
        client = connect_async(settings)
        verifier = KeyVerifier(client)
        first = await verifier.verify(key)

        def boom(*_: object) -> str:
            raise AssertionError("the verified key was checked again")

        monkeypatch.setattr(keys, "_digest", boom)
        monkeypatch.setattr(verifier, "_record", boom)
        second = await verifier.verify(key)
        await client.aclose()
        return first, second

    first, second = asyncio.run(run())
    assert first == second and getattr(second, "scope", None) is Scope.READ
