"""GraphQL types of the audit trail."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gbrec_core.access import AuditPage, AuditRecord
from gbrec_graphql.connections import PageInfo


@strawberry.type(
    description="One audit entry: who (key id), what, arguments, outcome. An admin action "
    "has an `intent` entry (arguments, written before it runs) and an `outcome` entry "
    "(result; `ref` is the intent's id); single facts are `event` entries."
)
class AuditEntry:
    id: str
    phase: str
    ref: str | None
    key_id: str
    operation: str
    arguments: JSON | None
    result: JSON | None
    ok: bool
    at: datetime

    @classmethod
    def from_domain(cls, record: AuditRecord) -> AuditEntry:
        return cls(
            id=record.id,
            phase=record.phase,
            ref=record.ref,
            key_id=record.key_id,
            operation=record.operation,
            arguments=record.arguments,
            result=record.result,
            ok=record.ok,
            at=record.at,
        )


@strawberry.type(description="A page of the audit log, newest first.")
class AuditLogPage:
    entries: list[AuditEntry]
    next_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
    page_info: PageInfo = strawberry.field(
        description="The same page as a Relay pageInfo (endCursor = the last entry's id)."
    )

    @classmethod
    def from_domain(cls, page: AuditPage) -> AuditLogPage:
        return cls(
            entries=[AuditEntry.from_domain(r) for r in page.records],
            next_cursor=page.next_cursor,
            page_info=PageInfo(
                has_next_page=page.next_cursor is not None,
                end_cursor=page.records[-1].id if page.records else None,
            ),
        )
