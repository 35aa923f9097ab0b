"""Micro-batching of concurrent single-query searches.

Requests that arrive within ``max_wait`` seconds of each other (or until
``max_batch`` are queued) are stacked into one batched search run in a worker
thread. Exact search turns N matrix-vector products into one matrix product,
which is where batching pays; see docs/index.md for the measurements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

import numpy as np

SearchFn = Callable[..., tuple[np.ndarray, np.ndarray]]
Result = tuple[np.ndarray, np.ndarray]


class MicroBatcher:
    """Collects single queries on one event loop and searches them as a batch."""

    def __init__(
        self,
        search: SearchFn,
        executor: Executor,
        loop: asyncio.AbstractEventLoop,
        *,
        max_batch: int = 64,
        max_wait: float = 0.001,
    ) -> None:
        self._search = search
        self._executor = executor
        self._loop = loop
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._pending: list[tuple[np.ndarray, int, Any, asyncio.Future[Result]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self.batches = 0

    async def submit(self, query: np.ndarray, k: int, exclude: Iterable[int] | None) -> Result:
        future: asyncio.Future[Result] = self._loop.create_future()
        self._pending.append((query, k, exclude, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = self._loop.call_later(self.max_wait, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        self.batches += 1
        queries = np.vstack([item[0] for item in batch])
        k_max = max(item[1] for item in batch)
        excludes = [item[2] for item in batch]
        exclude = None if all(e is None for e in excludes) else excludes
        work = self._loop.run_in_executor(self._executor, self._search, queries, k_max, exclude)
        work.add_done_callback(lambda done: _distribute(done, batch))


def _distribute(
    done: asyncio.Future[Result], batch: list[tuple[np.ndarray, int, Any, asyncio.Future[Result]]]
) -> None:
    error = done.exception()
    for row, (_, k, _, future) in enumerate(batch):
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            ids, scores = done.result()
            future.set_result((ids[row : row + 1, :k].copy(), scores[row : row + 1, :k].copy()))
