"""Mutations of the users domain (admin scope, audited)."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.privacy import delete_user
from gbrec_graphql.context import Info
from gbrec_graphql.fields import mutation
from gbrec_graphql.guard import admin_action
from gbrec_graphql.users.types import UserErasure, erasure_summary


@strawberry.type
class UserMutations:
    @mutation(
        description="Erase a user's experiment and serving data: experiment state and "
        "results, raw events, buffered writes, served records (admin)."
    )
    async def delete_user(self, info: Info, user_id: int) -> UserErasure:
        services = info.context.services

        async def action() -> UserErasure:
            # Full passes over the raw-event logs: off the event loop.
            report = await asyncio.to_thread(
                delete_user, services.experiments, services.monitor, user_id
            )
            return UserErasure.from_domain(report)

        return await admin_action(
            info.context,
            operation="deleteUser",
            arguments={"userId": user_id},
            action=action,
            summary=erasure_summary,
        )
