"""Reading the presented API key off a request (keys themselves: gbrec_core.access)."""

from __future__ import annotations

from collections.abc import Mapping


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The presented key from ``X-API-Key`` or ``Authorization: Bearer``."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None
