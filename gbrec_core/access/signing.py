"""HMAC-SHA256 signatures for artifacts written by one gbrec process and read by another.

A checksum stored next to the data proves nothing against someone who can write the
data; a keyed signature does, as long as the key (``GBREC_SIGNING_KEY``, or the
generated ``$GBREC_HOME/secrets/signing.key``) stays out of the artifact store.
Callers sign the exact bytes of a manifest and verify them before parsing anything.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from gbrec_core.errors import SignatureError

SCHEME = "hmac-sha256"


@dataclass(frozen=True)
class Signer:
    key: bytes

    def sign(self, payload: bytes) -> str:
        digest = hmac.new(self.key, payload, hashlib.sha256).hexdigest()
        return f"{SCHEME}:{digest}"

    def verify(self, payload: bytes, signature: str | None, *, what: str) -> None:
        """Raise :class:`SignatureError` naming ``what`` unless ``signature`` matches."""
        if not signature:
            raise SignatureError(f"{what} is not signed; refusing to load it")
        if not hmac.compare_digest(self.sign(payload), signature.strip()):
            raise SignatureError(f"{what} has a wrong signature; refusing to load it")
