"""Process secrets: a configured value, or a random key generated once into the home.

The pseudonymisation key (user ids in Redis) and the signing key (model bundles,
index manifests) come from settings when set; otherwise each is read from
``$GBREC_HOME/secrets/<name>.key``, created on first use with mode 0600 so every
process sharing the home agrees on it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gbrec_core.settings import Settings

KEY_BYTES = 32


def pseudonym_key(settings: Settings) -> bytes:
    return _secret(settings.pseudonym_key, settings.resolved_home, "pseudonym")


def signing_key(settings: Settings) -> bytes:
    return _secret(settings.signing_key, settings.resolved_home, "signing")


def _secret(configured: str | None, home: Path, name: str) -> bytes:
    if configured:
        return configured.encode()
    return _home_key(home / "secrets" / f"{name}.key")


def _home_key(path: Path) -> bytes:
    """The key in ``path``; created atomically (first writer wins) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _create_exclusive(path, secrets.token_hex(KEY_BYTES).encode())
    return path.read_bytes().strip()


def _create_exclusive(path: Path, key: bytes) -> None:
    """Write a private temporary file, then hard-link it into place: readers never see
    a half-written key and a concurrent creator's key is kept."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()
