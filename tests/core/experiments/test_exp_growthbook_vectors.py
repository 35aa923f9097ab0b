"""GrowthBook's own SDK test vectors (cases.json): hashing, buckets, namespaces, conditions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from gbrec_core.experiments import (
    Experiment,
    ExperimentSpec,
    ExperimentStatus,
    Strategy,
    VariantSpec,
)
from gbrec_core.experiments.assignment import assign
from gbrec_core.experiments.conditions import SUPPORTED_OPERATORS, eval_condition
from gbrec_core.experiments.hashing import (
    choose_variation,
    gb_hash,
    gb_hash_many,
    get_bucket_ranges,
    get_equal_weights,
    in_namespace,
)


def _operators(cond: Any) -> set[str]:
    if isinstance(cond, dict):
        return {k for k in cond if k.startswith("$")} | {
            op for v in cond.values() for op in _operators(v)
        }
    if isinstance(cond, list):
        return {op for v in cond for op in _operators(v)}
    return set()


def test_hash_vectors(gb_cases: dict[str, Any]) -> None:
    assert len(gb_cases["hash"]) >= 10
    for seed, value, version, expected in gb_cases["hash"]:
        assert gb_hash(seed, value, version) == expected, (seed, value, version)


def test_vectorised_hash_matches_scalar() -> None:
    ids = [str(i) for i in np.random.default_rng(1).integers(0, 10**7, 3000)]
    for version in (1, 2):
        want = np.array([gb_hash("seed-x", i, version) for i in ids])
        assert np.array_equal(gb_hash_many("seed-x", ids, version), want)


def test_bucket_range_vectors(gb_cases: dict[str, Any]) -> None:
    for name, (n, coverage, weights), expected in gb_cases["getBucketRange"]:
        got = get_bucket_ranges(n, coverage, weights)
        np.testing.assert_allclose(
            np.array(got).reshape(-1), np.array(expected).reshape(-1), atol=1e-9, err_msg=name
        )


def test_choose_variation_vectors(gb_cases: dict[str, Any]) -> None:
    for name, n, ranges, expected in gb_cases["chooseVariation"]:
        assert choose_variation(n, [tuple(r) for r in ranges]) == expected, name


def test_in_namespace_vectors(gb_cases: dict[str, Any]) -> None:
    for name, user, ns, expected in gb_cases["inNamespace"]:
        assert in_namespace(user, (ns[0], ns[1], ns[2])) == expected, name


def test_equal_weights_vectors(gb_cases: dict[str, Any]) -> None:
    for n, expected in gb_cases["getEqualWeights"]:
        np.testing.assert_allclose(get_equal_weights(n), expected, atol=1e-8)


def test_eval_condition_vectors(gb_cases: dict[str, Any]) -> None:
    """All 248 vectors, none skipped: the only operators outside SUPPORTED_OPERATORS in the
    file are deliberately invalid ones (e.g. ``$regx``) that must evaluate to false."""
    cases = gb_cases["evalCondition"]
    for case in cases:
        name, cond, attrs, expected = case[:4]
        groups = case[4] if len(case) > 4 else None
        assert eval_condition(attrs, cond, groups) == expected, (name, json.dumps(cond))
    unknown = set().union(*(_operators(c[1]) for c in cases)) - SUPPORTED_OPERATORS
    # "$groups" appears as an attribute name inside conditions, "$regx" as a typo operator
    assert unknown <= {"$regx", "$groups"}, unknown


_RUN_KEYS = {
    "key",
    "variations",
    "weights",
    "coverage",
    "hashVersion",
    "seed",
    "namespace",
    "condition",
}


def _run_cases(gb_cases: dict[str, Any]) -> list[list[Any]]:
    return [
        c
        for c in gb_cases["run"]
        if set(c[1]) <= {"attributes"}
        and set(c[2]) <= _RUN_KEYS
        and str(c[1].get("attributes", {}).get("id", "x")).isdigit()
    ]


def test_run_vectors_through_assign(gb_cases: dict[str, Any]) -> None:
    """GrowthBook's end-to-end `run` cases that use only features gbrec exposes."""
    cases = _run_cases(gb_cases)
    assert len(cases) >= 40
    now = datetime.now(UTC)
    for name, ctx, e, value, in_exp, hash_used in cases:
        variations = e["variations"]
        spec = ExperimentSpec(
            id=e["key"],
            variants=tuple(
                VariantSpec(str(i), json.dumps(v), (e.get("weights") or [None] * 99)[i])
                for i, v in enumerate(variations)
            ),
            strategy=Strategy.WEIGHTED if "weights" in e else Strategy.RANDOM,
            coverage=e.get("coverage", 1.0),
            seed=e.get("seed"),
            hash_version=e.get("hashVersion", 1),
            targeting=e.get("condition"),
            namespace=tuple(e["namespace"]) if "namespace" in e else None,
        )
        exp = Experiment(spec, ExperimentStatus.RUNNING, 0, None, None, now, now)
        attrs = ctx.get("attributes", {})
        a = assign(exp, int(attrs["id"]), attrs) if len(variations) > 1 else None
        got_in = a is not None and a.in_experiment
        assert got_in == in_exp, name
        got_value = variations[a.variant_index] if a is not None else variations[0]
        assert got_value == value, name
        assert (a is not None and a.hash_value is not None) == hash_used, name


def test_bucket_ranges_reject_nothing_silently() -> None:
    with pytest.raises(ValueError):
        gb_hash_many("s", ["1"], 3)
