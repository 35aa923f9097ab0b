"""The typed per-request Context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from gbrec_core.access import Principal, Scope, require
from gbrec_graphql.services import Services


@dataclass
class Context:
    services: Services
    request: Request
    response: Response
    experiment_header: str | None
    # The raw key stays out of repr() so it cannot reach a log line by accident.
    api_key: str | None = field(default=None, repr=False)
    _principal: Principal | None = field(default=None, repr=False)

    async def principal(self) -> Principal:
        """The verified caller; raises UNAUTHENTICATED without a valid key."""
        if self._principal is None:
            self._principal = await self.services.keys.verify(self.api_key)
        return self._principal

    async def require(self, scope: Scope) -> Principal:
        return require(await self.principal(), scope)

    async def check_read(self) -> None:
        """Reads are open unless ``GBREC_REQUIRE_KEY_FOR_READS`` is set."""
        if self.services.settings.require_key_for_reads:
            await self.require(Scope.READ)


Info = StrawberryInfo[Context, None]
