"""Pseudonyms: keyed, stable across processes sharing a home, never the id itself."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest

from gbrec_core.access.pseudonyms import Pseudonymizer
from gbrec_core.settings import Settings


@pytest.mark.parametrize("key", [b"k1", b"x" * 64, b"long key " * 20])
def test_a_pseudonym_is_the_truncated_hmac_of_the_decimal_id(key: bytes) -> None:
    p = Pseudonymizer(key, cache_size=16)
    for user in [0, 7, 7919317, 2**31 - 1, *range(100, 200)]:
        assert p(user) == hmac.new(key, str(user).encode(), hashlib.sha256).hexdigest()[:32]
    assert p(7919317) == p.of(7919317)  # evicted by now: a miss, then a hit
    assert re.fullmatch(r"[0-9a-f]{32}", p(0))


def test_keys_separate_deployments_and_homes_agree(tmp_path: Path) -> None:
    assert Pseudonymizer(b"k1")(42) != Pseudonymizer(b"k2")(42)
    first = Pseudonymizer.from_settings(Settings(home=tmp_path))
    again = Pseudonymizer.from_settings(Settings(home=tmp_path))
    other = Pseudonymizer.from_settings(Settings(home=tmp_path / "other"))
    assert first(42) == again(42) != other(42)
    assert len({first(u) for u in range(10_000)}) == 10_000


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        Pseudonymizer(b"")
