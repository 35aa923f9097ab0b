"""The evaluation's case for the chosen family, as registry version tags."""

from __future__ import annotations

import pandas as pd
import pytest

from gbrec_assets.assets.registry import selection_tags
from gbrec_core.settings import Settings


def ranked(*models: str) -> pd.DataFrame:
    """A ``model_evaluation`` table, best first, with paired evidence for every row but
    the best (p-values 0.01, 0.02, ...)."""
    rows = [
        {"model": m, "ndcg": 0.3 - i / 100, "delta": -i / 100, "ci_low": -0.1, "ci_high": 0.0}
        | {"p_value": float("nan") if i == 0 else i / 100, "users": 200}
        for i, m in enumerate(models)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("models", "vs_popularity"),
    [
        (("hybrid", "ease", "popularity"), "0.02"),
        (("hybrid", "popularity", "ease"), None),  # the runner-up: reported as such
        (("popularity", "hybrid"), None),  # the chosen family itself
    ],
)
def test_popularity_gets_its_own_p_value_only_beside_best_and_runner_up(
    models: tuple[str, ...], vs_popularity: str | None
) -> None:
    tags = selection_tags(ranked(*models), Settings(primary_metric="ndcg"))  # type: ignore[call-arg]
    assert tags["gbrec.selection.runner_up"] == models[1]
    assert tags["gbrec.selection.p_value"] == "0.01"
    assert tags.get("gbrec.selection.p_value_vs_popularity") == vs_popularity
    assert ("vs popularity:" in tags["gbrec.selection"]) == (vs_popularity is not None)
