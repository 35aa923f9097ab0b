"""Offline evaluation of recommenders: ranking metrics and the holdout protocol."""

from __future__ import annotations

from gbrec_core.evaluation.plots import plot_recall_curve
from gbrec_core.evaluation.protocol import DEFAULT_KS, evaluate, evaluate_curve
from gbrec_core.models.metrics import (
    METRICS,
    coverage,
    hit_matrix,
    per_user_metrics,
    ranking_metrics,
)

__all__ = [
    "DEFAULT_KS",
    "METRICS",
    "coverage",
    "evaluate",
    "evaluate_curve",
    "hit_matrix",
    "per_user_metrics",
    "plot_recall_curve",
    "ranking_metrics",
]
