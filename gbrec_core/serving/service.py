"""The recommendation service: one answer for every entry point (API, CLI, jobs).

``RecommendationService.recommend`` routes the user to an experiment arm when asked,
falls back from a broken arm to the champion, draws a request id, records the
exposure and the served list for online metrics (unless ``record=False``: a preview
that must leave no trace), and reports to the observer. Plain arguments in, frozen
dataclasses out; the GraphQL resolvers and ``gbrec recommend`` are thin adapters, so
both answer exactly the same list for the same version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gbrec_core.errors import InvalidInputError, UnavailableError
from gbrec_core.experiments import Event
from gbrec_core.experiments.patterns import check_attributes
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.serving.arms import ArmModels
from gbrec_core.serving.catalog import BookCatalog, BookRecord
from gbrec_core.serving.index_manager import IndexManager
from gbrec_core.serving.observer import ServingObserver
from gbrec_core.serving.request_ids import new_request_id
from gbrec_core.serving.routing import ArmChoice, ExperimentRouter
from gbrec_core.serving.server import ModelServer
from gbrec_core.serving.types import Recommendation

log = logging.getLogger(__name__)
MAX_LIMIT = 100


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")


@dataclass(frozen=True)
class RankedBook:
    rank: int
    score: float
    book: BookRecord


@dataclass(frozen=True)
class RecommendationList:
    """A ranked list for one user and how it was produced (``book_ids``/``scores``
    aligned, best first; ``fallback``: popularity answered, e.g. an unknown user)."""

    request_id: str
    user_id: int
    model_version: str
    variant: str | None
    experiment_id: str | None
    fallback: bool
    book_ids: list[int]
    scores: list[float]

    def ranked(self, catalog: BookCatalog) -> list[RankedBook]:
        return ranked_books(catalog, self.book_ids, self.scores)


@dataclass(frozen=True)
class SimilarBooks:
    book_id: int
    book_ids: list[int]
    scores: list[float]

    def ranked(self, catalog: BookCatalog) -> list[RankedBook]:
        return ranked_books(catalog, self.book_ids, self.scores)


def ranked_books(
    catalog: BookCatalog, book_ids: list[int], scores: list[float]
) -> list[RankedBook]:
    return [
        RankedBook(rank, score, catalog.record(book_id))
        for rank, (book_id, score) in enumerate(zip(book_ids, scores, strict=True), start=1)
    ]


class RecommendationService:
    """Recommendations, similar books and the catalogue over one :class:`ModelServer`."""

    def __init__(
        self,
        server: ModelServer,
        catalog: BookCatalog,
        indexes: IndexManager,
        router: ExperimentRouter,
        arms: ArmModels,
        monitor: OnlineMonitor,
        observer: ServingObserver,
    ) -> None:
        self.server = server
        self.catalog = catalog
        self.indexes = indexes
        self.router = router
        self.arms = arms
        self.monitor = monitor
        self.observer = observer

    async def recommend(
        self,
        user_id: int,
        limit: int = 10,
        experiment_id: str | None = None,
        attributes: Any = None,
        *,
        record: bool = True,
    ) -> RecommendationList:
        """Top ``limit`` unread books for ``user_id`` (see the module docstring)."""
        check_limit(limit)
        check_attributes(attributes)
        if not experiment_id:  # the hot path: the champion answers, no routing
            rec = await self.server.arecommend(user_id, k=limit)
            return self._served(rec, None, new_request_id(), record)
        arm = await self.router.route(experiment_id, user_id, attributes)
        rec, arm = await self._answer(arm, user_id, limit)
        request_id = new_request_id()
        if record and arm is not None:
            await self.router.record_exposure(arm, rec.user_id, request_id, rec.book_ids)
        return self._served(rec, arm, request_id, record)

    def _served(
        self, rec: Recommendation, arm: ArmChoice | None, request_id: str, record: bool
    ) -> RecommendationList:
        """The answer, logged for online metrics (when ``record``) and observed."""
        if record:
            self.monitor.served(request_id, rec.version, rec.book_ids)
        self.observer.served(rec.version, arm.variant if arm else "", rec.fallback)
        return RecommendationList(
            request_id,
            rec.user_id,
            rec.version,
            arm.variant if arm else None,
            arm.experiment_id if arm else None,
            rec.fallback,
            rec.book_ids,
            rec.scores,
        )

    async def _answer(
        self, arm: ArmChoice | None, user_id: int, limit: int
    ) -> tuple[Recommendation, ArmChoice | None]:
        """The arm's answer, else the champion's (then the request is served traffic,
        not experiment data: no arm)."""
        if arm is not None:
            rec = await self.arms.recommend(arm, user_id, limit)
            if rec is not None:
                return rec, arm
        return await self.server.arecommend(user_id, k=limit), None

    async def similar(self, book_id: int, limit: int = 10) -> SimilarBooks:
        """Books most similar to ``book_id`` (the vector index, else the model)."""
        check_limit(limit)
        started = time.perf_counter()
        pairs = await asyncio.to_thread(self.server.similar, book_id, limit)
        self.observer.similar_searched(time.perf_counter() - started)
        return SimilarBooks(book_id, [int(b) for b, _ in pairs], [float(s) for _, s in pairs])

    async def attribute_feedback(self, events: Sequence[Event]) -> None:
        """Count clicks of ``events`` for the online metrics (the degradation sensor's
        input). Never fails the caller: a store outage is logged and reported, and
        those clicks are missing from the online metrics only."""
        if not any(e.request_id for e in events):
            return
        try:
            await asyncio.to_thread(self.monitor.attribute, events)
        except UnavailableError as e:
            self.observer.attribution_failed()
            log.warning("online attribution of %d events failed: %s", len(events), e)
