"""The experiment sweeper: every running experiment's results, on a fixed period.

The service stores a snapshot whenever ``ExperimentService.results()`` runs (throttled
by ``GBREC_EXPERIMENT_SNAPSHOT_SECONDS``) and applies auto-stop there. Left to page
views alone, an experiment nobody looks at would have no history and never stop, so
every serving process sweeps on that period (the throttle keeps several processes from
multiplying snapshots, and status changes are compare-and-set, so one process decides).
"""

from __future__ import annotations

import asyncio
import logging

from gbrec_core.errors import GbrecError
from gbrec_core.experiments.service import ExperimentService
from gbrec_core.experiments.types import ExperimentStatus

log = logging.getLogger(__name__)

# A zero snapshot interval (tests, demos) must not turn the sweeper into a busy loop.
MIN_SWEEP_SECONDS = 1.0


def sweep(service: ExperimentService) -> int:
    """Compute (and so snapshot) every running experiment's results; returns how many."""
    done = 0
    for exp in service.find(ExperimentStatus.RUNNING):
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
