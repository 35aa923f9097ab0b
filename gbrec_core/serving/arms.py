"""Serving an experiment arm: its model when it can answer, otherwise the champion.

Creating an experiment checks every arm's model, but an arm can still break later: its
alias removed, its artifact corrupt, the registry down. The request must succeed
anyway, so the champion answers and the request is *not* recorded as an exposure: the
user did not see their arm, and counting them in it would bias the comparison
towards the champion. Each such request is reported to the observer
(``arm_fallback(experiment, variant, reason)``); the failure is logged once per retry
period, and the broken model is not retried for ``retry_seconds``, so an outage costs
one failed load attempt, not one per request.

Aliases (``baseline``, ``challenger``) are resolved to a version number and reused
for ``resolve_seconds``: resolving through MLflow costs about 10 ms per request,
serving a cached version number about 0.1 ms. ``champion`` is passed through as is,
because the server already answers it from the live version without a lookup.
"""

from __future__ import annotations

import asyncio
import logging
import time

from gbrec_core.errors import GbrecError
from gbrec_core.registry import CHAMPION
from gbrec_core.serving.observer import ServingObserver
from gbrec_core.serving.ranking import ListQuery
from gbrec_core.serving.routing import ArmChoice
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.types import Recommendation

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0


class ArmModels:
    """Per-process resolution and failure memory of experiment arms' models."""

    def __init__(
        self,
        server: ModelServer,
        observer: ServingObserver,
        *,
        resolve_seconds: float,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.server = server
        self.observer = observer
        self.resolve_seconds = resolve_seconds
        self.retry_seconds = retry_seconds
        self._versions: dict[str, tuple[str, float]] = {}
        self._failures: dict[str, tuple[str, float]] = {}

    async def recommend(
        self, arm: ArmChoice, user_id: int, k: int, query: ListQuery | None = None
    ) -> Recommendation | None:
        """The arm's list, or None when its model cannot serve (the champion answers)."""
        reason = self._recent_failure(arm.model)
        if reason is None:
            try:
                version = await self._version(arm.model)
                return await self.server.arecommend(user_id, k, version, query)
            except GbrecError as e:
                reason = type(e).__name__
                self._remember_failure(arm, reason, e)
        self.observer.arm_fallback(arm.experiment_id, arm.variant, reason)
        return None

    def _remember_failure(self, arm: ArmChoice, reason: str, error: GbrecError) -> None:
        self._failures[arm.model] = (reason, time.monotonic())
        self._versions.pop(arm.model, None)
        log.warning(
            "experiment %s: variant %s (model %s) cannot serve, the champion answers "
            "without an exposure for %.0f s: %s",
            arm.experiment_id,
            arm.variant,
            arm.model,
            self.retry_seconds,
            error,
        )

    async def _version(self, model: str) -> str:
        if model.isdigit() or model == CHAMPION:
            return model
        hit = self._versions.get(model)
        if hit is not None and time.monotonic() - hit[1] < self.resolve_seconds:
            return hit[0]
        # Resolves the alias and makes the version resident (a load on first use).
        info = await asyncio.to_thread(self.server.ensure_version, model)
        self._versions[model] = (info.version, time.monotonic())
        return info.version

    def _recent_failure(self, model: str) -> str | None:
        failure = self._failures.get(model)
        if failure is None:
            return None
        if time.monotonic() - failure[1] >= self.retry_seconds:
            del self._failures[model]
            return None
        return failure[0]
