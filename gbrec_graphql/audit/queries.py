"""The admin-only ``auditLog`` query."""

from __future__ import annotations

import strawberry

from gbrec_core.access import Scope
from gbrec_graphql.audit.types import AuditLogPage
from gbrec_graphql.context import Info
from gbrec_graphql.fields import field


@strawberry.type
class AuditQueries:
    @field(description="Admin mutations, newest first (admin scope).")
    async def audit_log(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> AuditLogPage:
        await info.context.require(Scope.ADMIN)
        page = await info.context.services.audit.page(first=first, after=after)
        return AuditLogPage.from_domain(page)
