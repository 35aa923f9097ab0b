"""Mutations of the models domain (admin scope, audited)."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_core.registry import types as core
from gbrec_graphql.context import Info
from gbrec_graphql.fields import mutation
from gbrec_graphql.guard import admin_action
from gbrec_graphql.models.types import Deployment


@strawberry.type
class ModelMutations:
    @mutation(description="Make `version` (or an alias) champion and hot-swap it in.")
    async def deploy_model(self, info: Info, version: str) -> Deployment:
        server = info.context.services.server

        async def action() -> core.Deployment:
            # Loading and warming a version is CPU and I/O work: off the loop.
            return await asyncio.to_thread(server.deploy, version)

        done = await admin_action(
            info.context,
            operation="deployModel",
            arguments={"version": version},
            action=action,
            summary=core.Deployment.summary,
        )
        return Deployment.from_domain(done)

    @mutation(description="Return the champion alias to the previous champion.")
    async def rollback_model(self, info: Info) -> Deployment:
        server = info.context.services.server

        async def action() -> core.Deployment:
            return await asyncio.to_thread(server.rollback)

        done = await admin_action(
            info.context,
            operation="rollbackModel",
            arguments={},
            action=action,
            summary=core.Deployment.summary,
        )
        return Deployment.from_domain(done)
