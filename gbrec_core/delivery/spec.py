"""The champion-challenger experiment the delivery loop runs for a new version."""

from __future__ import annotations

from gbrec_core.experiments.types import ExperimentSpec, Strategy, VariantSpec
from gbrec_core.settings import Settings

CHALLENGER_PREFIX = "challenger-v"
PRIMARY_METRIC = "ctr"


def challenger_experiment_id(challenger_version: str) -> str:
    """``challenger-v<N>``: the id clients and the sweeper rely on (ARCHITECTURE §6)."""
    return f"{CHALLENGER_PREFIX}{challenger_version}"


def challenger_spec(
    settings: Settings, champion_version: str, challenger_version: str
) -> ExperimentSpec:
    """A STAGED experiment: control ``champion``, treatment ``challenger``.

    Variants name registry version numbers, not aliases, so the arms keep serving the
    versions compared even after the champion alias moves. ``ctr`` is the primary
    metric; guardrails are also analysed as metrics, each listed once.
    """
    guardrails = tuple(settings.delivery_guardrails)
    metrics = tuple(dict.fromkeys((PRIMARY_METRIC, *guardrails)))
    return ExperimentSpec(
        id=challenger_experiment_id(challenger_version),
        description=(
            f"champion v{champion_version} vs challenger v{challenger_version} "
            "(started by the delivery loop)"
        ),
        strategy=Strategy.STAGED,
        variants=(
            VariantSpec(name="champion", model=champion_version),
            VariantSpec(name="challenger", model=challenger_version),
        ),
        stages=tuple(settings.delivery_stages),
        metrics=metrics,
        guardrails=guardrails,
        min_users_per_variant=settings.delivery_min_users,
        champion_challenger=True,
    )
