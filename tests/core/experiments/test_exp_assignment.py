"""Assignment through the service: strategies, staged rollout, stability, targeting."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gbrec_core.errors import ExperimentError, InvalidInputError, NotFoundError
from gbrec_core.experiments import (
    ExperimentService,
    ExperimentSpec,
    ExperimentStatus,
    Strategy,
    VariantSpec,
)
from gbrec_core.experiments.hashing import gb_hash_many

USERS = np.arange(1, 5001)


def _reference(seed: str, version: int, coverage: float, weights: list[float]) -> np.ndarray:
    """Independent vectorised GrowthBook bucketing: -1 = not in the experiment."""
    n = gb_hash_many(seed, [str(u) for u in USERS], version)
    starts = np.concatenate([[0.0], np.cumsum(weights)[:-1]])
    ends = starts + coverage * np.array(weights)
    hit = (n[:, None] >= starts) & (n[:, None] < ends)
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def _served(service: ExperimentService, exp_id: str) -> np.ndarray:
    out = []
    for u in USERS:
        a = service.assign(exp_id, int(u))
        out.append(-1 if a is None else a.variant_index)
    return np.array(out)


def _variants(n: int, weights: list[float] | None = None) -> tuple[VariantSpec, ...]:
    return tuple(
        VariantSpec(f"v{i}", f"model-{i}", None if weights is None else weights[i])
        for i in range(n)
    )


def test_weighted_coverage_custom_seed_matches_growthbook(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="w",
            variants=_variants(2, [0.3, 0.7]),
            strategy=Strategy.WEIGHTED,
            coverage=0.8,
            seed="s33d",
            hash_version=2,
        )
    )
    served = _served(service, "w")
    assert np.array_equal(served, _reference("s33d", 2, 0.8, [0.3, 0.7]))
    assert 0.75 < (served >= 0).mean() < 0.85


def test_random_three_variants_hash_v1(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="r3", variants=_variants(3), hash_version=1))
    served = _served(service, "r3")
    assert np.array_equal(served, _reference("r3", 1, 1.0, [1 / 3] * 3))  # seed = id
    assert set(served.tolist()) == {0, 1, 2}


def test_staged_advance_moves_no_enrolled_user(service: ExperimentService) -> None:
    stages = (0.01, 0.05, 0.25, 0.5, 1.0)
    service.create(
        ExperimentSpec(
            id="st", variants=_variants(2, [0.5, 0.5]), strategy=Strategy.STAGED, stages=stages
        )
    )
    previous = _served(service, "st")
    for stage, coverage in enumerate(stages):
        if stage:
            assert service.advance("st").stage == stage
        served = _served(service, "st")
        assert np.array_equal(served, _reference("st", 2, coverage, [0.5, 0.5]))
        enrolled = previous >= 0
        assert np.array_equal(served[enrolled], previous[enrolled])  # nobody moved
        previous = served
    assert (previous >= 0).all()
    with pytest.raises(ExperimentError):
        service.advance("st")


def test_assignment_is_stable_across_processes(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="xp", variants=_variants(2)))
    code = (
        "import sys; from pathlib import Path\n"
        "from gbrec_core.settings import Settings\n"
        "from gbrec_core.store import connect\n"
        "from gbrec_core.experiments import ExperimentService\n"
        "s = Settings(home=Path(sys.argv[1]))\n"
        "svc = ExperimentService(s, connect(s))\n"
        "print(','.join(svc.assign('xp', u).variant for u in range(1, 2001)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(service.settings.home)],
        capture_output=True,
        text=True,
        check=True,
    )
    mine = [service.assign("xp", u).variant for u in range(1, 2001)]  # type: ignore[union-attr]
    assert out.stdout.strip().split(",") == mine


def test_targeting_namespace_and_forced_users(service: ExperimentService) -> None:
    service.create(
        ExperimentSpec(
            id="t",
            variants=_variants(2),
            targeting={"country": {"$in": ["PL", "DE"]}},
            namespace=("ns", 0.0, 0.5),
            forced_users={7: "v1"},
        )
    )
    inside = [u for u in range(1, 400) if u != 7 and service.assign("t", u, {"country": "PL"})]
    assert inside and all(service.assign("t", u, {"country": "US"}) is None for u in inside)
    forced = service.assign("t", 7, {"country": "US"})
    assert forced is not None and forced.variant == "v1" and not forced.in_experiment
    other = ExperimentSpec(id="t2", variants=_variants(2), namespace=("ns", 0.5, 1.0))
    service.create(other)
    both = [
        u
        for u in range(1, 2000)
        if u != 7 and service.assign("t", u, {"country": "PL"}) and service.assign("t2", u)
    ]
    assert both == []  # namespaces make the experiments mutually exclusive


def test_stopped_serves_control_to_everyone(service: ExperimentService) -> None:
    service.create(ExperimentSpec(id="s", variants=_variants(2)))
    assert service.stop("s").status is ExperimentStatus.STOPPED
    picks = {service.assign("s", u).variant for u in range(1, 200)}  # type: ignore[union-attr]
    assert picks == {"v0"}
    refused = service.record_exposure("s", "v0", 1, "req", [1])
    assert (refused.accepted, refused.rejected) == (0, 1)  # served, but not experiment data
    with pytest.raises(ExperimentError):
        service.stop("s")


@pytest.mark.parametrize(
    "bad",
    [
        {"variants": _variants(1)},
        {"strategy": Strategy.WEIGHTED, "variants": _variants(2, [0.2, 0.2])},
        {"strategy": Strategy.STAGED, "stages": (0.5, 0.1)},
        {"hash_version": 3},
        {"metrics": ("nope",)},
        {"id": "has space"},
    ],
)
def test_invalid_specs_are_rejected(service: ExperimentService, bad: dict[str, object]) -> None:
    base: dict[str, object] = {"id": "bad", "variants": _variants(2)}
    with pytest.raises(InvalidInputError):
        service.create(ExperimentSpec(**{**base, **bad}))  # type: ignore[arg-type]


def test_unknown_and_duplicate(service: ExperimentService) -> None:
    with pytest.raises(NotFoundError):
        service.get("missing")
    service.create(ExperimentSpec(id="d", variants=_variants(2)))
    with pytest.raises(ExperimentError):
        service.create(ExperimentSpec(id="d", variants=_variants(2)))
    assert [e.id for e in service.find(ExperimentStatus.RUNNING)] == ["d"]
