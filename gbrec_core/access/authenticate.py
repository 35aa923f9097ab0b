"""Authentication with a record: a refused key is logged and audited.

Failed authentications are what an attacker produces in bulk, so the audit entries are
rate-limited per client address (in this process); every refusal is still logged and
counted.
"""

from __future__ import annotations

import logging

from gbrec_core.access.audit import AuditLog
from gbrec_core.access.keys import KeyVerifier, Principal, split_key
from gbrec_core.access.local_limit import LocalRateLimiter
from gbrec_core.errors import AuthError, GbrecError

log = logging.getLogger(__name__)
AUDITED_FAILURES_PER_MINUTE = 10


class Authenticator:
    def __init__(self, keys: KeyVerifier, audit: AuditLog) -> None:
        self.keys = keys
        self.audit = audit
        self.failures = 0
        self._audited = LocalRateLimiter(AUDITED_FAILURES_PER_MINUTE, what="audited failures")

    async def principal(self, key: str | None, address: str) -> Principal:
        """The verified caller; AuthError (logged, audited) otherwise."""
        try:
            return await self.keys.verify(key)
        except AuthError as e:
            await self._refused(key, address, e)
            raise

    async def _refused(self, key: str | None, address: str, error: AuthError) -> None:
        self.failures += 1
        key_id = split_key(key) if key else None
        log.warning("authentication refused (key id %s, from %s): %s", key_id, address, error)
        try:
            self._audited.spend(address)
            await self.audit.write(
                key_id=key_id or "anonymous",
                operation="authenticate",
                arguments={"address": address},
                result={"error": error.code, "reason": str(error)},
                ok=False,
            )
        except GbrecError as e:  # over the audit budget, or Redis down: the refusal stands
            log.debug("failed authentication not audited: %s", e)
