"""Who may do what: API keys and scopes, per-key rate limits, and the audit trail.

Framework-free, so the API, the CLI and Dagster share them; every Redis failure comes
out as :class:`gbrec_core.errors.UnavailableError`.
"""

from __future__ import annotations

from gbrec_core.access.audit import AuditLog, AuditPage, AuditRecord
from gbrec_core.access.keys import (
    KeyInfo,
    KeyVerifier,
    NewKey,
    Principal,
    Scope,
    create_key,
    list_keys,
    require,
    revoke_key,
)
from gbrec_core.access.ratelimit import BucketConfig, RateLimiter

__all__ = [
    "AuditLog",
    "AuditPage",
    "AuditRecord",
    "BucketConfig",
    "KeyInfo",
    "KeyVerifier",
    "NewKey",
    "Principal",
    "RateLimiter",
    "Scope",
    "create_key",
    "list_keys",
    "require",
    "revoke_key",
]
