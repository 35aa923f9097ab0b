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
    #: A GET request: queries run, but nothing is recorded (no exposure, no served log),
    #: so a link or an image tag cannot write on a visitor's behalf.
    read_only: bool = False
    # The raw key stays out of repr() so it cannot reach a log line by accident.
    api_key: str | None = field(default=None, repr=False)
    _principal: Principal | None = field(default=None, repr=False)
    _read_checked: bool = field(default=False, repr=False)

    async def principal(self) -> Principal:
        """The verified caller; raises UNAUTHENTICATED without a valid key."""
        if self._principal is None:
            auth = self.services.auth
            self._principal = await auth.principal(self.api_key, self.client_address)
        return self._principal

    async def require(self, scope: Scope) -> Principal:
        return require(await self.principal(), scope)

    async def check_read(self) -> None:
        """Once per request: in production (or with ``GBREC_REQUIRE_KEY_FOR_READS``) a
        read key, and a read budget per key and per client address; open in dev."""
        if self._read_checked:
            return
        services = self.services
        if services.reads_need_key:
            principal = await self.require(Scope.READ)
            services.key_reads.spend(principal.key_id)
            services.address_reads.spend(self.client_address)
        self._read_checked = True

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client is not None else "unknown"


Info = StrawberryInfo[Context, None]
