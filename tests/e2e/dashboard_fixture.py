"""A contract-shaped GraphQL stand-in for the dashboard test, fed by simulated users.

Used only while no real experiment service can be started in-process: it answers
the dashboard's three operations (experiments, history, advance/stop) with data
computed from simulated per-user outcomes (Welch intervals, a normal-mixture
confidence sequence, a chi-square SRM test), never with typed-in numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy import stats
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gbrec_graphql.dashboard import dashboard_routes

ALPHA = 0.05


@dataclass
class SimulatedExperiment:
    id: str
    status: str
    strategy: str
    coverage: float
    variants: list[dict[str, Any]]
    users: list[int]  # users actually assigned per variant (may violate the weights)
    effects: dict[str, list[float]]  # metric -> true mean per variant
    winner: str | None = None
    decision: str | None = None
    outcomes: dict[str, list[np.ndarray]] = field(default_factory=dict)


def _simulate(exp: SimulatedExperiment, rng: np.random.Generator) -> None:
    for metric, means in exp.effects.items():
        scale = 0.35 if metric == "ctr" else 1.0
        exp.outcomes[metric] = [
            rng.normal(mean, scale, size=n) for mean, n in zip(means, exp.users, strict=True)
        ]


def _cs_halfwidth(n_c: int, n_t: int, var: float) -> float:
    """Gaussian-mixture confidence sequence half-width for a difference in means.

    With estimate variance v and mixing variance tau2 the mixture martingale crosses
    1/alpha when d^2 >= v (v + tau2) / tau2 * log((v + tau2) / (v alpha^2)).
    """
    v = var * (1 / n_c + 1 / n_t)
    tau2 = var / 500
    return math.sqrt(v * (v + tau2) / tau2 * math.log((v + tau2) / (v * ALPHA**2)))


def compare(control: np.ndarray, treat: np.ndarray) -> dict[str, Any]:
    diff = float(treat.mean() - control.mean())
    var_c, var_t = float(control.var(ddof=1)), float(treat.var(ddof=1))
    se = math.sqrt(var_c / len(control) + var_t / len(treat))
    half = 1.96 * se
    p = float(2 * stats.norm.sf(abs(diff) / se))
    return {
        "diff": diff,
        "lift": diff / float(control.mean()),
        "ciLow": diff - half,
        "ciHigh": diff + half,
        "pValue": p,
        "significant": p < ALPHA,
    }


def results(exp: SimulatedExperiment) -> dict[str, Any]:
    weights = np.array([v["weight"] for v in exp.variants])
    srm_p = float(stats.chisquare(exp.users, f_exp=sum(exp.users) * weights / weights.sum())[1])
    metrics = []
    for metric, samples in exp.outcomes.items():
        for i, (variant, sample) in enumerate(zip(exp.variants, samples, strict=True)):
            row = {"metric": metric, "variant": variant["name"], "mean": float(sample.mean())}
            empty = {"diff": None, "lift": None, "ciLow": None, "ciHigh": None, "pValue": None}
            row |= {**empty, "significant": False} if i == 0 else compare(samples[0], sample)
            metrics.append(row)
    return {
        "srmPValue": srm_p,
        "srmOk": srm_p >= 0.001,
        "decision": exp.decision,
        "variants": [
            {"name": v["name"], "users": n, "exposures": 3 * n + 7}
            for v, n in zip(exp.variants, exp.users, strict=True)
        ],
        "metrics": metrics,
    }


def history(exp: SimulatedExperiment, snapshots: int = 14) -> list[dict[str, Any]]:
    """ExperimentResults-shaped snapshots (only the fields the chart asks for)."""
    start = datetime(2025, 3, 1, tzinfo=UTC)
    out = []
    for k in range(1, snapshots + 1):
        metrics = []
        for metric, samples in exp.outcomes.items():
            control = samples[0][: max(3, len(samples[0]) * k // snapshots)]
            for variant, sample in zip(exp.variants[1:], samples[1:], strict=True):
                treat = sample[: max(3, len(sample) * k // snapshots)]
                diff = float(treat.mean() - control.mean())
                pooled = float(np.concatenate([control, treat]).var(ddof=1))
                half = _cs_halfwidth(len(control), len(treat), pooled)
                metrics.append(
                    {
                        "metric": metric,
                        "variant": variant["name"],
                        "diff": diff,
                        "ciLow": diff - half,
                        "ciHigh": diff + half,
                    }
                )
        at = (start + timedelta(hours=6 * k)).isoformat()
        out.append({"computedAt": at, "metrics": metrics})
    return out


def default_experiments(seed: int = 7) -> list[SimulatedExperiment]:
    rng = np.random.default_rng(seed)
    exps = [
        SimulatedExperiment(
            id="als-vs-popularity",
            status="RUNNING",
            strategy="STAGED",
            coverage=0.5,
            variants=[
                {"name": "control", "weight": 0.5, "model": "champion"},
                {"name": "als-challenger", "weight": 0.5, "model": "challenger"},
            ],
            users=[1480, 1523],
            effects={"ctr": [0.21, 0.245], "satisfaction": [3.6, 3.72]},
        ),
        SimulatedExperiment(
            id="hybrid-three-way",
            status="RUNNING",
            strategy="WEIGHTED",
            coverage=1.0,
            variants=[
                {"name": "control", "weight": 0.5, "model": "champion"},
                {"name": "hybrid", "weight": 0.25, "model": "7"},
                {"name": "content", "weight": 0.25, "model": "6"},
            ],
            users=[2210, 1320, 1012],
            effects={"ctr": [0.2, 0.203, 0.185]},
        ),
        SimulatedExperiment(
            id="ease-rerank",
            status="CONCLUDED",
            strategy="RANDOM",
            coverage=1.0,
            variants=[
                {"name": "control", "weight": 0.5, "model": "3"},
                {"name": "ease", "weight": 0.5, "model": "4"},
            ],
            users=[4012, 3968],
            effects={"ctr": [0.19, 0.232]},
            winner="ease",
            decision="ease beats control on ctr (confidence sequence excludes 0)",
        ),
    ]
    for exp in exps:
        _simulate(exp, rng)
    return exps


@dataclass
class FixtureApi:
    experiments: list[SimulatedExperiment]
    history_supported: bool = True
    mutations: list[dict[str, Any]] = field(default_factory=list)

    def experiment_json(self, exp: SimulatedExperiment) -> dict[str, Any]:
        return {
            "id": exp.id,
            "status": exp.status,
            "strategy": exp.strategy,
            "coverage": exp.coverage,
            "seed": exp.id,
            "variants": exp.variants,
            "results": results(exp),
            "winner": exp.winner,
        }

    def answer(self, query: str, variables: dict[str, Any], api_key: str | None) -> dict[str, Any]:
        by_id = {e.id: e for e in self.experiments}
        if "history" in query:
            if not self.history_supported:
                message = "Cannot query field 'history' on type 'Experiment'."
                return {
                    "data": None,
                    "errors": [
                        {"message": message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                    ],
                }
            exp = by_id[variables["id"]]
            return {"data": {"experiment": {"id": exp.id, "history": history(exp)}}}
        if query.lstrip().startswith("mutation"):
            self.mutations.append({"query": query, "variables": variables, "key": api_key})
            if api_key != "admin-secret":
                return {
                    "data": None,
                    "errors": [
                        {"message": "admin scope required", "extensions": {"code": "FORBIDDEN"}}
                    ],
                }
            exp = by_id[variables["id"]]
            name = "stopExperiment" if "stopExperiment" in query else "advanceExperiment"
            if name == "stopExperiment":
                exp.status = "STOPPED"
            else:
                exp.coverage = min(1.0, exp.coverage * 2)
            return {"data": {name: {"id": exp.id, "status": exp.status}}}
        return {"data": {"experiments": [self.experiment_json(e) for e in self.experiments]}}

    def app(self) -> Starlette:
        async def graphql(request: Request) -> JSONResponse:
            body = await request.json()
            key = request.headers.get("x-api-key")
            return JSONResponse(self.answer(body["query"], body.get("variables") or {}, key))

        return Starlette(routes=[Route("/graphql", graphql, methods=["POST"]), *dashboard_routes()])
