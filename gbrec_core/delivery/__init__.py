"""Model delivery: how a newly registered version reaches the champion alias.

``start_delivery`` is the pipeline's side (gate at once, or challenger plus a staged
A/B experiment); carrying out the experiment's decision is the API's sweeper.
"""

from __future__ import annotations

from gbrec_core.delivery.spec import CHALLENGER_PREFIX, challenger_experiment_id, challenger_spec
from gbrec_core.delivery.start import DeliveryOutcome, start_delivery
from gbrec_core.delivery.stream import DECISIONS_STREAM, DecisionEntry, read_decisions

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
