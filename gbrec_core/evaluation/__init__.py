"""Offline evaluation of recommenders: ranking metrics and the holdout protocol."""

from __future__ import annotations

from gbrec_core.evaluation.plots import plot_deltas, plot_recall_curve, plot_segments
from gbrec_core.evaluation.protocol import (
    DEFAULT_KS,
    RankedLists,
    evaluate,
    evaluate_curve,
    metric_curve,
    rank_test_users,
)
from gbrec_core.evaluation.report import EvaluationReport, evaluate_models, paired_metric
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
    "EvaluationReport",
    "RankedLists",
    "coverage",
    "evaluate",
    "evaluate_curve",
    "evaluate_models",
    "hit_matrix",
    "metric_curve",
    "paired_metric",
    "per_user_metrics",
    "plot_deltas",
    "plot_recall_curve",
    "plot_segments",
    "rank_test_users",
    "ranking_metrics",
]
