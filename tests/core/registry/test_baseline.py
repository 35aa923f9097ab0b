"""The ``baseline`` alias: registered once per data fingerprint, never gated, never champion."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from gbrec_core.errors import InvalidInputError, NotFoundError
from gbrec_core.models import Recommender, make_recommender
from gbrec_core.registry import BASELINE, CHALLENGER, CHAMPION, ModelRegistry, register_baseline


def fingerprint(sha: str) -> dict[str, object]:
    return {"sha256": sha, "rows": 900, "users": 60, "books": 120}


def test_baseline_registers_once_per_fingerprint_and_leaves_champion_alone(
    registry: ModelRegistry,
    log_model: Callable[[int, float], tuple[str, Recommender]],
    make_ratings: Callable[[int], pd.DataFrame],
) -> None:
    first, _ = log_model(1, 0.30)
    second, _ = log_model(2, 0.35)
    registry.promote(first, force=True)
    registry.promote(second, force=True)
    challenger, _ = log_model(3, 0.10)
    assert not registry.propose(challenger).accepted  # worse: stays challenger
    state = (registry.champion_version(), registry.previous_champion())
    assert state == (second, first)

    model = make_recommender("popularity").fit(make_ratings(4))

    def logged(ndcg: float, sha: str) -> str:
        return registry.log_training_run(model, {"ndcg": ndcg}, {}, fingerprint(sha))

    made = register_baseline(registry, logged(0.01, "aaa"))
    assert made.registered and made.previous_version is None
    assert registry.alias_version(BASELINE) == made.version
    count = len(registry.versions())

    same = register_baseline(registry, logged(0.01, "aaa"))
    assert not same.registered and same.version == made.version
    assert len(registry.versions()) == count

    moved = register_baseline(registry, logged(0.02, "bbb"))
    assert moved.registered and moved.previous_version == made.version
    assert moved.version != made.version and len(registry.versions()) == count + 1
    aliases = {v.version: v.aliases for v in registry.versions()}
    assert aliases[moved.version] == [BASELINE] and aliases[made.version] == []
    assert aliases[challenger] == [CHALLENGER] and aliases[second] == [CHAMPION]
    # The gate never ran on the (much worse) baseline and the rollback history is intact.
    assert (registry.champion_version(), registry.previous_champion()) == state
    assert registry.rollback().version == first


def test_a_run_without_a_data_fingerprint_is_not_a_baseline(registry: ModelRegistry) -> None:
    """The fingerprint compared is the run's own tag (what it was trained on)."""
    before = registry.alias_version(BASELINE)
    run_id = registry.log_metrics_run("gbrec-other", metrics={"ndcg": 0.1}, tags={})
    with pytest.raises(InvalidInputError, match=r"no data\.sha256 tag"):
        register_baseline(registry, run_id)
    assert registry.alias_version(BASELINE) == before


def test_set_alias_refuses_the_managed_aliases(
    registry: ModelRegistry, log_model: Callable[[int, float], tuple[str, Recommender]]
) -> None:
    version, _ = log_model(5, 0.2)
    for alias in (CHAMPION, CHALLENGER):
        with pytest.raises(InvalidInputError):
            registry.set_alias(alias, version)
    registry.set_alias("shadow", version)
    assert "shadow" in registry.version(version).aliases
    assert registry.resolve("shadow") == version


@pytest.mark.parametrize("name", ["9" * 30, "\uff11", "no-such-alias"])
def test_unknown_versions_are_not_found_not_unavailable(registry: ModelRegistry, name: str) -> None:
    with pytest.raises(NotFoundError):
        registry.resolve(name)
