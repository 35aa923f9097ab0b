"""Mutations of the models domain (admin scope, audited)."""

from __future__ import annotations

import asyncio

import strawberry

from gbrec_graphql.context import Info
from gbrec_graphql.fields import mutation
from gbrec_graphql.guard import admin_action
from gbrec_graphql.models.types import Deployment, deployment_summary


@strawberry.type
class ModelMutations:
    @mutation(description="Make `version` (or an alias) champion and hot-swap it in.")
    async def deploy_model(self, info: Info, version: str) -> Deployment:
        server = info.context.services.server

        async def action() -> Deployment:
            # Loading and warming a version is CPU and I/O work: off the loop.
            return Deployment.from_domain(await asyncio.to_thread(server.deploy, version))

        return await admin_action(
            info.context,
            operation="deployModel",
            arguments={"version": version},
            action=action,
            summary=deployment_summary,
        )

    @mutation(description="Return the champion alias to the previous champion.")
    async def rollback_model(self, info: Info) -> Deployment:
        server = info.context.services.server

        async def action() -> Deployment:
            return Deployment.from_domain(await asyncio.to_thread(server.rollback))

        return await admin_action(
            info.context,
            operation="rollbackModel",
            arguments={},
            action=action,
            summary=deployment_summary,
        )
