"""Synthetic champion-challenger traffic: exposures, one impression per shown book, clicks."""

from __future__ import annotations

import numpy as np

from gbrec_core.experiments import (
    Event,
    EventType,
    ExperimentService,
    ExperimentSpec,
    ExposureRow,
    Strategy,
    VariantSpec,
)
from gbrec_core.settings import Settings

SHOWN = 5


def challenger_spec(
    settings: Settings, champion: str = "1", challenger: str = "2"
) -> ExperimentSpec:
    return ExperimentSpec(
        id=f"challenger-v{challenger}",
        variants=(VariantSpec("champion", champion), VariantSpec("challenger", challenger)),
        strategy=Strategy.STAGED,
        stages=settings.delivery_stages,
        metrics=("ctr", *settings.delivery_guardrails),
        guardrails=settings.delivery_guardrails,
        min_users_per_variant=settings.delivery_min_users,
        champion_challenger=True,
    )


def serve(
    service: ExperimentService,
    exp_id: str,
    users: range,
    click_rates: tuple[float, float],
    seed: int = 0,
) -> dict[int, int]:
    """Users in the experiment (at its current coverage) see SHOWN books, each shown book
    is one IMPRESSION, each clicked with the arm's rate; returns user -> arm index."""
    rng = np.random.default_rng(seed)
    arms: dict[int, int] = {}
    rows, events = [], []
    for u in users:
        a = service.assign(exp_id, u)
        if a is None or not a.in_experiment:
            continue
        arms[u] = a.variant_index
        books = [int(b) for b in rng.choice(np.arange(1, 200), SHOWN, replace=False)]
        rows.append(ExposureRow(u, a.variant_index, 0.0, books))
        for b in books:
            events.append(Event(u, EventType.IMPRESSION, exp_id, book_id=b))
            if rng.random() < click_rates[a.variant_index]:
                events.append(Event(u, EventType.CLICK, exp_id, book_id=b))
    service.record_exposures(exp_id, rows, request_id="req")
    for i in range(0, len(events), 1000):
        service.record_events(events[i : i + 1000])
    return arms
