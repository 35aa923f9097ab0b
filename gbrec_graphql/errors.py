"""Errors raised by the API layer itself (everything else comes from gbrec_core)."""

from __future__ import annotations

from gbrec_core.errors import GbrecError


class RateLimitedError(GbrecError):
    """The key spent its mutation budget; ``retry_after`` says when a token is back."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
