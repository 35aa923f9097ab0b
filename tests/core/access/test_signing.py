"""Artifact signatures: verified before use, refused when missing or wrong."""

from __future__ import annotations

import pytest

from gbrec_core.access.signing import Signer
from gbrec_core.errors import SignatureError


def test_signature_round_trip() -> None:
    signer = Signer(b"key")
    signer.verify(b"manifest", signer.sign(b"manifest"), what="bundle")


@pytest.mark.parametrize(
    ("payload", "signature", "message"),
    [
        (b"manifest", None, "bundle is not signed"),
        (b"manifest", "", "bundle is not signed"),
        (b"manifest!", Signer(b"key").sign(b"manifest"), "wrong signature"),
        (b"manifest", Signer(b"other").sign(b"manifest"), "wrong signature"),
    ],
)
def test_tampering_is_refused(payload: bytes, signature: str | None, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        Signer(b"key").verify(payload, signature, what="bundle")
