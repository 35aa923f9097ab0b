"""Closed-loop model delivery: a challenger earns promotion through a staged A/B test.

The pipeline's side is ``start_delivery`` (gate at once, or challenger plus a staged
champion-challenger experiment ``challenger-v<N>``); the API's side is the decision
loop (:mod:`gbrec_core.delivery.loop`), which judges running champion-challenger
experiments and carries each decision out exactly once (docs/experiments.md,
"Closed-loop delivery").
"""

from __future__ import annotations

from gbrec_core.delivery.events import DECISIONS_STREAM
from gbrec_core.delivery.spec import CHALLENGER_PREFIX, challenger_experiment_id, challenger_spec
from gbrec_core.delivery.start import DeliveryOutcome, start_delivery
from gbrec_core.delivery.stream import DecisionEntry, read_decisions

__all__ = [
    "CHALLENGER_PREFIX",
    "DECISIONS_STREAM",
    "DecisionEntry",
    "DeliveryOutcome",
    "challenger_experiment_id",
    "challenger_spec",
    "read_decisions",
    "start_delivery",
]
