"""Result snapshots over time: the ``Experiment.history`` field and the snapshot sweeper.

The core stores a snapshot whenever ``ExperimentService.results()`` runs (throttled by
``GBREC_EXPERIMENT_SNAPSHOT_SECONDS``). Left to page views alone, an experiment nobody
looks at would have no history, and auto-stop would wait for a viewer; the sweeper
therefore computes every running experiment's results on that interval in each API
process (the core's throttle keeps several processes from multiplying snapshots).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from gbrec_core.errors import GbrecError, InvalidInputError
from gbrec_core.experiments import ExperimentService, ExperimentStatus

log = logging.getLogger(__name__)

T = TypeVar("T")
MAX_POINTS = 2000
# A zero snapshot interval (tests, demos) must not turn the sweeper into a busy loop.
MIN_SWEEP_SECONDS = 1.0


def since_timestamp(since: datetime | None) -> float:
    """Seconds since the epoch; a naive DateTime is read as UTC."""
    if since is None:
        return 0.0
    return (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()


def check_points(limit: int) -> None:
    if not 1 <= limit <= MAX_POINTS:
        raise InvalidInputError(f"limit must be between 1 and {MAX_POINTS}, got {limit}")


def thin(items: Sequence[T], limit: int) -> list[T]:
    """At most ``limit`` items spread evenly over ``items``, first and last kept."""
    check_points(limit)
    n = len(items)
    if n <= limit:
        return list(items)
    if limit == 1:
        return [items[-1]]
    return [items[round(i * (n - 1) / (limit - 1))] for i in range(limit)]


def sweep(service: ExperimentService) -> int:
    """Compute (and so snapshot) every running experiment's results; returns how many."""
    done = 0
    for exp in service.list(ExperimentStatus.RUNNING):
        try:
            service.results(exp.id)
            done += 1
        except GbrecError as e:  # one broken experiment must not starve the others
            log.warning("snapshot of experiment %s failed: %s", exp.id, e)
    return done


async def run_sweeper(service: ExperimentService, interval: float) -> None:
    """Sweep forever every ``interval`` seconds (cancel the task to stop)."""
    period = max(interval, MIN_SWEEP_SECONDS)
    while True:
        await asyncio.sleep(period)
        try:
            await asyncio.to_thread(sweep, service)
        except GbrecError as e:  # e.g. Redis down: try again next period
            log.warning("experiment snapshot sweep skipped: %s", e)
        except Exception:  # a background task's boundary: log it, keep sweeping
            log.exception("experiment snapshot sweep failed")
