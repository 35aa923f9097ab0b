"""Erasing one user from the experiment data (the right to erasure, experiments' part).

What goes: the user's state and contribution to every experiment's running sums (any
status), their shown-book flags, their lines in every raw-event log, and their writes
buffered in *this* process. Afterwards each experiment the user was in gets a fresh
result snapshot, so the history's latest point no longer counts them; snapshots hold
only per-variant aggregates (counts, means, intervals), never a user, so older points
stay as they were.

Writes buffered in *other* processes during a Redis outage are out of reach, but the
erasure is recorded (``gbrec:exp:erased``: a hash of the pseudonym -> time, kept for
the event retention) and a replay leaves out the users erased after a write was buffered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson

from gbrec_core.experiments.analysis import compute_results
from gbrec_core.experiments.codec import results_to_json
from gbrec_core.experiments.rawlog import GLOBAL_LOG, log_key
from gbrec_core.experiments.service import ExperimentService, layout_of
from gbrec_core.experiments.types import Experiment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExperimentErasure:
    """What one erasure removed from the experiment data.

    ``experiments``: experiments the user had state in; ``exposures``: their exposures
    subtracted from the sums; ``raw_events``: lines removed from the raw-event logs
    (exposures and events); ``buffered``: exposures and events removed from this
    process's outage buffer; ``snapshots``: fresh snapshots recorded; ``request_ids``:
    the requests the removed lines named (their served records go too).
    """

    experiments: int
    exposures: int
    raw_events: int
    buffered: int
    snapshots: int
    request_ids: frozenset[str]


def erase_user(service: ExperimentService, user_id: int) -> ExperimentErasure:
    """Remove ``user_id`` from every experiment's data (see the module docstring)."""
    pseudonym = service.pseudonym(user_id)
    store = service.store
    store.mark_erased(pseudonym)  # other processes' replays of older writes skip the user
    buffered = service.buffer.forget(pseudonym)  # before the rest: no flush brings them back
    exps = service.find()
    touched: list[Experiment] = []
    exposures = 0
    for exp in exps:
        found = store.erase_state(exp, layout_of(exp), pseudonym)
        if found is not None:
            touched.append(exp)
            exposures += found
    lines: list[str] = []
    for key in [*(log_key(e.id) for e in exps), GLOBAL_LOG]:
        lines += store.logs.erase(key, pseudonym)
    for exp in touched:
        _snapshot(service, exp)
    return ExperimentErasure(
        experiments=len(touched),
        exposures=exposures,
        raw_events=len(lines),
        buffered=buffered,
        snapshots=len(touched),
        request_ids=_request_ids(lines),
    )


def _snapshot(service: ExperimentService, exp: Experiment) -> None:
    """Record the results without the user now (no decision: an erasure is no reason
    to stop an experiment, and the sweeper decides on its next pass)."""
    aggs = service.store.aggregates(exp.id, len(exp.spec.variants))
    res = compute_results(exp, layout_of(exp), aggs)
    service.store.add_snapshot(exp.id, results_to_json(res))


def _request_ids(lines: list[str]) -> frozenset[str]:
    ids: set[str] = set()
    for line in lines:
        request = orjson.loads(line).get("request")
        if isinstance(request, str) and request:
            ids.add(request)
    return frozenset(ids)
