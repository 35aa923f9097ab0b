"""MLflow tracking and model registry: the only part of gbrec that imports mlflow.

mlflow itself is imported lazily inside functions because it pulls in starlette,
which gbrec_core must not import at module load.
"""

from __future__ import annotations

from gbrec_core.registry.baseline import BaselineRegistration, register_baseline
from gbrec_core.registry.bundle import ModelBundle, read_bundle, write_bundle
from gbrec_core.registry.registry import ModelRegistry
from gbrec_core.registry.types import (
    BASELINE,
    CHALLENGER,
    CHAMPION,
    Deployment,
    ModelVersionInfo,
    PromotionDecision,
)

__all__ = [
    "BASELINE",
    "CHALLENGER",
    "CHAMPION",
    "BaselineRegistration",
    "Deployment",
    "ModelBundle",
    "ModelRegistry",
    "ModelVersionInfo",
    "PromotionDecision",
    "read_bundle",
    "register_baseline",
    "write_bundle",
]
