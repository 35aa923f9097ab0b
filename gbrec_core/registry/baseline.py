"""The ``baseline`` version: a non-personalised reference registered beside the champion.

An A/B test needs two versions, and a fresh install has only the champion; the
popularity baseline is the natural second arm (personalisation vs popularity).
It is registered without the promotion gate and never touches ``champion``,
``challenger`` or the champion history, so it cannot become champion by accident
(``promote``/``deployModel`` can still target it explicitly). A new baseline version
is registered only when the data fingerprint differs from the current baseline's:
retrains on unchanged data would otherwise add identical versions. The run is logged
beforehand (the pipeline's evaluation logs every family, popularity included), so
the baseline version reuses that run's LoggedModel instead of logging it again.
"""

from __future__ import annotations

import dataclasses

from gbrec_core.errors import InvalidInputError
from gbrec_core.registry.mlflow_errors import mlflow_errors
from gbrec_core.registry.registry import ModelRegistry
from gbrec_core.registry.types import BASELINE

SHA_TAG = "data.sha256"


@dataclasses.dataclass(frozen=True)
class BaselineRegistration:
    """Outcome of :func:`register_baseline`: the baseline version and whether it is new."""

    version: str
    registered: bool
    previous_version: str | None
    data_sha256: str
    reason: str


def baseline_data_sha256(registry: ModelRegistry, version: str) -> str | None:
    """The data fingerprint (sha256) ``version`` was trained on, from its run's tags."""
    info = registry.version(version)
    return None if info.run_id is None else run_data_sha256(registry, info.run_id)


def run_data_sha256(registry: ModelRegistry, run_id: str) -> str | None:
    """The data fingerprint (sha256) run ``run_id`` was trained on (its tag)."""
    with mlflow_errors(f"read run {run_id}"):
        return registry.client.get_run(run_id).data.tags.get(SHA_TAG)


def register_baseline(registry: ModelRegistry, run_id: str) -> BaselineRegistration:
    """Register the logged run ``run_id`` (the popularity family's run of the evaluation)
    as the ``baseline`` alias, unless the current baseline was trained on the same data
    (the runs' fingerprint sha256 tags): the run then stays unregistered."""
    sha = run_data_sha256(registry, run_id)
    if sha is None:
        raise InvalidInputError(f"run {run_id} has no {SHA_TAG} tag: not a training run")
    current = registry.alias_version(BASELINE)
    if current is not None and baseline_data_sha256(registry, current) == sha:
        reason = f"v{current} is already the baseline for data {sha[:12]}"
        return BaselineRegistration(current, False, current, sha, reason)
    info = registry.register(run_id)
    registry.set_alias(BASELINE, info.version)
    was = "no baseline" if current is None else f"v{current} (other data)"
    reason = f"v{info.version} is the baseline for data {sha[:12]}, replacing {was}"
    return BaselineRegistration(info.version, True, current, sha, reason)
