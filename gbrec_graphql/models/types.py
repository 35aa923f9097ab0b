"""GraphQL types of the models domain."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gbrec_core.registry import Deployment as CoreDeployment
from gbrec_core.registry import ModelVersionInfo


@strawberry.type(description="A registered model version with its aliases and metrics.")
class ModelVersion:
    version: str
    aliases: list[str]
    metrics: JSON | None
    created_at: datetime
    run_id: str | None
    model: str | None = strawberry.field(description="Model family, e.g. als or popularity.")

    @classmethod
    def from_domain(cls, info: ModelVersionInfo) -> ModelVersion:
        return cls(
            version=info.version,
            aliases=list(info.aliases),
            metrics=JSON(dict(info.metrics)),
            created_at=info.created_at,
            run_id=info.run_id,
            model=getattr(info, "model", None),
        )


@strawberry.type(description="The champion alias moved to `version`.")
class Deployment:
    version: str
    previous_version: str | None
    at: datetime

    @classmethod
    def from_domain(cls, deployment: CoreDeployment) -> Deployment:
        return cls(
            version=deployment.version,
            previous_version=deployment.previous_version,
            at=deployment.at,
        )
