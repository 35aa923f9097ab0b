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

import numpy as np

from gbrec_core.errors import InvalidInputError, UnavailableError
from gbrec_core.experiments import Event
from gbrec_core.experiments.patterns import check_attributes
from gbrec_core.monitoring import OnlineMonitor
from gbrec_core.serving.arms import ArmModels
from gbrec_core.serving.catalog import BookCatalog, BookRecord
from gbrec_core.serving.filters import BookFilter
from gbrec_core.serving.index_manager import IndexManager
from gbrec_core.serving.observer import ServingObserver
from gbrec_core.serving.pages import page_start
from gbrec_core.serving.ranking import ListQuery
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
    #: The list position of ``book_ids[0]`` (0 for the first page).
    offset: int = 0
    #: True when the ranking goes on after this page (within the ranked depth).
    has_next_page: bool = False
    #: The seed books a new reader's list was folded from (empty otherwise).
    seeds: tuple[int, ...] = ()

    def ranked(self, catalog: BookCatalog) -> list[RankedBook]:
        return ranked_books(catalog, self.book_ids, self.scores, self.offset + 1)


@dataclass(frozen=True)
class SimilarBooks:
    book_id: int
    book_ids: list[int]
    scores: list[float]

    def ranked(self, catalog: BookCatalog) -> list[RankedBook]:
        return ranked_books(catalog, self.book_ids, self.scores)


def ranked_books(
    catalog: BookCatalog, book_ids: list[int], scores: list[float], first_rank: int = 1
) -> list[RankedBook]:
    return [
        RankedBook(rank, score, catalog.record(book_id))
        for rank, (book_id, score) in enumerate(zip(book_ids, scores, strict=True), first_rank)
    ]


@dataclass(frozen=True)
class Page:
    """Which window of the ranking to answer: ``offset`` or an ``after`` cursor."""

    offset: int = 0
    after: str | None = None


FIRST_PAGE = Page()


@dataclass(frozen=True)
class Window:
    start: int
    limit: int
    query: ListQuery | None

    def cut(self, rec: Recommendation) -> tuple[list[int], list[float], bool]:
        """This page of the ranked answer and whether books follow it."""
        end = self.start + self.limit
        return rec.book_ids[self.start : end], rec.scores[self.start : end], len(rec.book_ids) > end


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
        page: Page = FIRST_PAGE,
        wanted: BookFilter | None = None,
        seeds: Sequence[int] = (),
    ) -> RecommendationList:
        """Top ``limit`` unread books for ``user_id`` (see the module docstring): the
        ``page`` window of the ranking, only books ``wanted`` allows; ``seeds`` fold a
        reader the model does not know in from books they liked."""
        check_limit(limit)
        check_attributes(attributes)
        start = page_start(page.offset, page.after, limit, self.depth)
        query = self._query(wanted, seeds)
        k = min(start + limit + 1, self.depth)  # one more: is there a next page?
        if not experiment_id:  # the hot path: the champion answers, no routing
            rec = await self.server.arecommend(user_id, k, None, query)
            return self._served(rec, None, new_request_id(), record, Window(start, limit, query))
        arm = await self.router.route(experiment_id, user_id, attributes)
        rec, arm = await self._answer(arm, user_id, k, query)
        window = Window(start, limit, query)
        request_id = new_request_id()
        if record and arm is not None:
            shown = window.cut(rec)[0]
            await self.router.record_exposure(arm, rec.user_id, request_id, shown)
        return self._served(rec, arm, request_id, record, window)

    @property
    def depth(self) -> int:
        """How deep a list can be paged: the precomputed depth, at least one page."""
        return max(self.server.settings.precompute_depth, MAX_LIMIT)

    def _query(self, wanted: BookFilter | None, seeds: Sequence[int]) -> ListQuery | None:
        """The request's filter compiled to a mask (once), with its seeds; None: plain."""
        allowed = None if wanted is None or wanted.is_empty else self.catalog.mask(wanted)
        if allowed is None and not seeds:
            return None
        return ListQuery(allowed, tuple(int(s) for s in seeds))

    def _served(
        self,
        rec: Recommendation,
        arm: ArmChoice | None,
        request_id: str,
        record: bool,
        window: Window,
    ) -> RecommendationList:
        """The page, logged for online metrics (when ``record``) and observed."""
        ids, scores, more = window.cut(rec)
        if record:
            self.monitor.served(request_id, rec.version, ids)
        self.observer.served(rec.version, arm.variant if arm else "", rec.fallback)
        seeds = window.query.seeds if window.query and not rec.fallback else ()
        return RecommendationList(
            request_id,
            rec.user_id,
            rec.version,
            arm.variant if arm else None,
            arm.experiment_id if arm else None,
            rec.fallback,
            ids,
            scores,
            window.start,
            more,
            seeds,
        )

    async def _answer(
        self, arm: ArmChoice | None, user_id: int, k: int, query: ListQuery | None
    ) -> tuple[Recommendation, ArmChoice | None]:
        """The arm's answer, else the champion's (then the request is served traffic,
        not experiment data: no arm)."""
        if arm is not None:
            rec = await self.arms.recommend(arm, user_id, k, query)
            if rec is not None:
                return rec, arm
        return await self.server.arecommend(user_id, k, None, query), None

    async def explain(self, found: RecommendationList, top: int = 3) -> list[list[int]]:
        """For each book of ``found``, the reader's books (history, else seeds) that
        raised its score most; empty lists for popularity answers. Runs only when a
        client asks (the ``because`` field): the hot path never pays for it."""
        if found.fallback or not found.book_ids:
            return [[] for _ in found.book_ids]
        loaded = await asyncio.to_thread(self.server.ensure_loaded, found.model_version)
        seeds = np.asarray(found.seeds, dtype=np.int64)
        return await asyncio.to_thread(
            loaded.bundle.model.explain,
            np.asarray(found.book_ids, dtype=np.int64),
            user_id=found.user_id,
            seeds=seeds,
            top=top,
        )

    async def similar(
        self, book_id: int, limit: int = 10, wanted: BookFilter | None = None
    ) -> SimilarBooks:
        """Books most similar to ``book_id`` (the vector index, else the model), only
        those ``wanted`` allows (searching deeper until ``limit`` pass)."""
        check_limit(limit)
        started = time.perf_counter()
        allowed = None if wanted is None or wanted.is_empty else self.catalog.mask(wanted)
        pairs = await asyncio.to_thread(self.server.similar, book_id, limit, allowed)
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
