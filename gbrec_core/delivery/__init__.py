"""Closed-loop model delivery: a challenger earns promotion through a staged A/B test.

The decision loop (:mod:`gbrec_core.delivery.loop`) judges running champion-challenger
experiments and carries the decision out exactly once; see docs/experiments.md,
"Closed-loop delivery".
"""
