"""JSON encoding of experiment specs and results (for Redis and snapshots)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from gbrec_core.errors import InvalidInputError
from gbrec_core.experiments.types import (
    EventType,
    ExperimentResults,
    ExperimentSpec,
    MetricResult,
    MetricSpec,
    Strategy,
    VariantSpec,
    VariantStats,
)


def spec_to_json(spec: ExperimentSpec) -> str:
    data = dataclasses.asdict(spec)
    data["forced_users"] = {str(k): v for k, v in spec.forced_users.items()}
    return orjson.dumps(data).decode()


def spec_from_json(text: str) -> ExperimentSpec:
    return spec_from_dict(orjson.loads(text))


def spec_from_dict(data: Mapping[str, Any]) -> ExperimentSpec:
    """Build a spec from plain data (JSON, GraphQL input); raises InvalidInputError."""
    try:
        d = dict(data)
        d["variants"] = tuple(VariantSpec(**v) for v in d["variants"])
        d["strategy"] = Strategy(d.get("strategy", "RANDOM"))
        d["custom_metrics"] = tuple(
            MetricSpec(**{**m, "event_type": EventType(m["event_type"])})
            for m in d.get("custom_metrics", ())
        )
        for key in ("stages", "metrics", "guardrails"):
            if key in d and d[key] is not None:
                d[key] = tuple(d[key])
        if d.get("namespace") is not None:
            d["namespace"] = tuple(d["namespace"])
        d["forced_users"] = {int(k): v for k, v in (d.get("forced_users") or {}).items()}
        return ExperimentSpec(**d)
    except (KeyError, TypeError, ValueError) as e:
        raise InvalidInputError(f"invalid experiment spec: {e}") from e


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def results_to_json(results: ExperimentResults) -> str:
    data = dataclasses.asdict(results)
    data["metrics"] = [{k: _clean(v) for k, v in m.items()} for m in data["metrics"]]
    return orjson.dumps(data).decode()


def results_from_json(text: str) -> ExperimentResults:
    from gbrec_core.experiments.types import ExperimentStatus

    d = orjson.loads(text)
    return ExperimentResults(
        experiment_id=d["experiment_id"],
        status=ExperimentStatus(d["status"]),
        srm_p_value=d["srm_p_value"],
        srm_ok=d["srm_ok"],
        variants=[VariantStats(**v) for v in d["variants"]],
        metrics=[MetricResult(**m) for m in d["metrics"]],
        decision=d["decision"],
        winner=d["winner"],
        sequential=d["sequential"],
        computed_at=datetime.fromisoformat(d["computed_at"]),
    )
