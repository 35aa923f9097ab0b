"""Process secrets: configured values win; generated keys are private and stable."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gbrec_core.access.secret_keys import pseudonym_key, signing_key
from gbrec_core.settings import Settings


def test_configured_key_is_used_verbatim(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, pseudonym_key="k1", signing_key="k2")
    assert pseudonym_key(settings) == b"k1"
    assert signing_key(settings) == b"k2"
    assert not (tmp_path / "secrets").exists()


def test_generated_key_is_private_stable_and_distinct_per_purpose(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = pseudonym_key(settings)
    assert len(first) == 64
    assert pseudonym_key(Settings(home=tmp_path)) == first
    assert signing_key(settings) != first
    path = tmp_path / "secrets" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_concurrent_creators_agree(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: signing_key(settings), range(32)))
    assert len(keys) == 1
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == ["signing.key"]
