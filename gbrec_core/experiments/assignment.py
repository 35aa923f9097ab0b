"""Pure, deterministic assignment (no I/O): works while Redis is down."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments.conditions import SavedGroups, eval_condition
from gbrec_core.experiments.hashing import (
    choose_variation,
    gb_hash,
    get_bucket_ranges,
    in_namespace,
)
from gbrec_core.experiments.metrics import MetricLayout
from gbrec_core.experiments.types import (
    Assignment,
    Experiment,
    ExperimentSpec,
    ExperimentStatus,
    Strategy,
)

_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _out(
    exp: Experiment,
    name: str,
    *,
    hash_value: float | None,
    reason: str,
    in_experiment: bool = False,
) -> Assignment:
    names = [v.name for v in exp.spec.variants]
    i = names.index(name)
    return Assignment(
        exp.id, name, exp.spec.variants[i].model, i, in_experiment, hash_value, reason
    )


def assign(
    exp: Experiment,
    user_id: int,
    attributes: Mapping[str, Any] | None = None,
    saved_groups: SavedGroups | None = None,
) -> Assignment | None:
    """The variant for ``user_id``, or None when the user is not in the experiment.

    Mirrors GrowthBook's run order: forced variants, status overrides, targeting,
    namespace, then the hash of ``seed + str(user_id)`` against the bucket ranges.
    """
    forced = exp.spec.forced_users.get(user_id)
    if forced is not None:
        return _out(exp, forced, hash_value=None, reason="forced")
    if exp.status in (ExperimentStatus.ROLLED_BACK, ExperimentStatus.STOPPED):
        return _out(exp, exp.control.name, hash_value=None, reason=exp.status.value.lower())
    if exp.status is ExperimentStatus.CONCLUDED:
        return _out(exp, exp.winner or exp.control.name, hash_value=None, reason="concluded")
    uid = str(user_id)
    if exp.spec.targeting and not eval_condition(
        {**(attributes or {}), "id": uid}, exp.spec.targeting, saved_groups
    ):
        return None
    if exp.spec.namespace is not None and not in_namespace(uid, exp.spec.namespace):
        return None
    n = gb_hash(exp.seed, uid, exp.spec.hash_version)
    if n is None:
        return None
    ranges = get_bucket_ranges(len(exp.spec.variants), exp.coverage, exp.weights)
    idx = choose_variation(n, ranges)
    if idx < 0:
        return None
    return _out(exp, exp.spec.variants[idx].name, hash_value=n, reason="hashed", in_experiment=True)


def validate_spec(spec: ExperimentSpec) -> MetricLayout:
    """Reject inconsistent specs up front (GrowthBook would silently equalise weights)."""
    problems: list[str] = []
    if not _ID.match(spec.id):
        problems.append("id must match [A-Za-z0-9_.-]{1,64}")
    names = [v.name for v in spec.variants]
    if len(names) < 2 or len(set(names)) != len(names):
        problems.append("need at least two variants with distinct names")
    if spec.hash_version not in (1, 2):
        problems.append("hash_version must be 1 or 2")
    if not 0 < spec.coverage <= 1:
        problems.append("coverage must be in (0, 1]")
    if not 0 < spec.alpha < 0.5:
        problems.append("alpha must be in (0, 0.5)")
    if spec.sequential_tuning <= 0:
        problems.append("sequential_tuning must be positive")
    weights = [v.weight for v in spec.variants]
    if spec.strategy is Strategy.WEIGHTED and (
        any(w is None or w < 0 for w in weights) or abs(sum(w or 0 for w in weights) - 1) > 1e-6
    ):
        problems.append("WEIGHTED needs a non-negative weight per variant summing to 1")
    if spec.strategy is Strategy.STAGED:
        st = spec.stages
        if not st or any(not 0 < s <= 1 for s in st) or list(st) != sorted(st):
            problems.append("STAGED needs non-decreasing stages in (0, 1]")
    if any(v not in names for v in spec.forced_users.values()):
        problems.append("forced_users names an unknown variant")
    if not spec.metrics:
        problems.append("at least one metric is required")
    if problems:
        raise InvalidInputError(f"experiment {spec.id!r}: " + "; ".join(problems))
    layout = MetricLayout.build(spec.custom_metrics, spec.positive_rating)
    for m in (*spec.metrics, *spec.guardrails):
        layout.index(m)
    return layout
