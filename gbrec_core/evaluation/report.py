"""The evaluation report of several model families on one temporal holdout.

Each family is ranked once (:func:`rank_test_users`, ``max(ks)`` deep); everything
else is read off those lists: the metric@k curve, the ranking metrics and catalogue
coverage at ``k``, the beyond-accuracy metrics (:mod:`.beyond`), the per-user metrics
by activity segment (:mod:`.segments`) and the paired tests of every family against
the best one (:mod:`.significance`). Only the new-user segment scores again, from a
few seed books per sampled user (one batched :meth:`Recommender.score_history` call
per 500 users).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from gbrec_core.errors import InvalidInputError
from gbrec_core.evaluation.beyond import (
    BEYOND_METRICS,
    CatalogueStats,
    beyond_accuracy,
    catalogue_stats,
    holdout_lists,
)
from gbrec_core.evaluation.protocol import DEFAULT_KS, metric_curve, rank_test_users
from gbrec_core.evaluation.segments import (
    NEW_USERS,
    activity_segments,
    new_user_metrics,
    new_user_sample,
    segment_rows,
    segment_summary,
)
from gbrec_core.evaluation.significance import RESAMPLES, compare_to_best, selection_record
from gbrec_core.models.base import Recommender
from gbrec_core.models.metrics import METRICS

NEW_USER_SEEDS = 5
NEW_USER_SAMPLE = 1000


@dataclasses.dataclass(frozen=True)
class EvaluationReport:
    """What :func:`evaluate_models` measured.

    ``table``: one row per family at ``k``, best by ``primary`` first: the ranking
    metrics, coverage, the beyond-accuracy metrics, ``users`` (test users evaluated)
    and the paired comparison with the best family on ``paired_metric``.
    ``segments``: segment, model, users, ndcg, recall. ``holdout``: the
    beyond-accuracy metrics of what the test users actually read next (their first k
    held-out positives), the reference for popularity bias.
    ``selection``: the one-sentence decision record of the choice.
    """

    k: int
    primary: str
    paired_metric: str
    n_users: int
    curves: dict[str, pd.DataFrame]
    table: pd.DataFrame
    segments: pd.DataFrame
    holdout: dict[str, float]
    selection: str

    @property
    def best(self) -> str:
        return str(self.table.iloc[0]["model"])


@dataclasses.dataclass(frozen=True)
class _Holdout:
    train: pd.DataFrame
    test: pd.DataFrame
    stats: CatalogueStats
    users: np.ndarray
    labels: np.ndarray
    sample: dict[int, np.ndarray]
    seeds: int
    ks: tuple[int, ...]
    k: int


def evaluate_models(
    models: Mapping[str, Recommender],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    books: pd.DataFrame | None = None,
    ks: tuple[int, ...] = DEFAULT_KS,
    k: int = 10,
    primary: str = "ndcg",
    new_user_seeds: int = NEW_USER_SEEDS,
    new_user_max: int = NEW_USER_SAMPLE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> EvaluationReport:
    """Evaluate every family of ``models`` (name -> model fitted on ``train``)."""
    if not models:
        raise InvalidInputError("no model to evaluate")
    if primary not in RANKABLE:  # before minutes of ranking, not after
        raise InvalidInputError(f"unknown primary metric {primary!r}; one of {list(RANKABLE)}")
    holdout = _holdout(train, test, books, tuple(sorted({*ks, k})), k, new_user_seeds, new_user_max)
    rows: list[dict[str, object]] = []
    segments: list[dict[str, object]] = []
    curves: dict[str, pd.DataFrame] = {}
    per_user: dict[str, dict[str, np.ndarray]] = {}
    n_users = int(holdout.users.shape[0])
    for family, model in models.items():
        curve, beyond, users_metrics, family_segments = _evaluate_family(family, model, holdout)
        curves[family], per_user[family] = curve, users_metrics
        at_k = {str(name): float(value) for name, value in curve.loc[k].items()}
        rows.append({"model": family, **at_k, **beyond, "users": n_users})
        segments.extend(family_segments)
    table = (
        pd.DataFrame(rows)
        .sort_values(primary, ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    paired = paired_metric(primary)
    best = str(table.iloc[0]["model"])
    compared = compare_to_best(
        {f: v[paired] for f, v in per_user.items()}, best, resamples=resamples, seed=seed
    )
    table = table.join(compared, on="model")
    return EvaluationReport(
        k=k,
        primary=primary,
        paired_metric=paired,
        n_users=n_users,
        curves=curves,
        table=table,
        segments=pd.DataFrame(segments),
        holdout=beyond_accuracy(holdout_lists(test, holdout.users, k), holdout.stats),
        selection=selection_record(table, paired, k, n_users),
    )


#: The columns of the table a family can be ranked on (``primary``).
RANKABLE: tuple[str, ...] = (*METRICS, "coverage", *BEYOND_METRICS)


def paired_metric(primary: str) -> str:
    """The per-user metric the families are compared on: the primary metric when it
    is one (precision, recall, ndcg, map, hit_rate), NDCG otherwise (e.g. coverage)."""
    return primary if primary in METRICS else "ndcg"


def _holdout(
    train: pd.DataFrame,
    test: pd.DataFrame,
    books: pd.DataFrame | None,
    ks: tuple[int, ...],
    k: int,
    seeds: int,
    max_users: int,
) -> _Holdout:
    users = np.unique(test["user_id"].to_numpy(dtype=np.int64))
    return _Holdout(
        train=train,
        test=test,
        stats=catalogue_stats(train, books),
        users=users,
        labels=activity_segments(train, users),
        sample=new_user_sample(train, users, seeds=seeds, max_users=max_users),
        seeds=seeds,
        ks=ks,
        k=k,
    )


def _evaluate_family(
    family: str, model: Recommender, holdout: _Holdout
) -> tuple[pd.DataFrame, dict[str, float], dict[str, np.ndarray], list[dict[str, object]]]:
    lists = rank_test_users(model, holdout.train, holdout.test, max(holdout.ks))
    per_user = lists.per_user(holdout.k)
    segments = segment_rows(holdout.labels, per_user, family)
    if holdout.sample:
        fresh = new_user_metrics(model, holdout.sample, holdout.test, holdout.k)
        label = f"{NEW_USERS} ({holdout.seeds} seed books)"
        segments.append(segment_summary(label, family, fresh, slice(None)))
    beyond = beyond_accuracy(lists.recommended[:, : holdout.k], holdout.stats)
    return metric_curve(lists, holdout.ks), beyond, per_user, segments
