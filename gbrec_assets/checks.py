"""Asset checks: one blocking check per ratings validation rule, and the champion smoke test.

The validation checks are declared as ``check_specs`` of ``validated_ratings``:
the rules run on the raw file *before* it is parsed, so a corrupt file fails its
checks (with violation counts and example rows) instead of crashing a loader, and
Dagster's blocking semantics keep every downstream asset from running. Drift rules
compare with the previous validated snapshot and only warn: a new month of ratings
legitimately shifts the distribution, and a human should look before it blocks.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np

from gbrec_assets.resources import RegistryResource
from gbrec_core.data import report as rules
from gbrec_core.data.report import ValidationReport, Violation

VALIDATED_RATINGS = dg.AssetKey("validated_ratings")

BLOCKING_RULES: tuple[str, ...] = (
    rules.MISSING_FILE,
    rules.EMPTY_FILE,
    rules.MALFORMED_ROW,
    rules.MISSING_COLUMN,
    rules.EXTRA_COLUMN,
    rules.UNPARSABLE_VALUE,
    rules.WRONG_TYPE,
    rules.NULL_VALUE,
    rules.RATING_OUT_OF_RANGE,
    rules.NON_POSITIVE_ID,
    rules.DUPLICATE_RATING,
    rules.UNKNOWN_BOOK,
    rules.USER_BELOW_MIN_RATINGS,
)
WARNING_RULES: tuple[str, ...] = (
    rules.DRIFT_RATING_MEAN,
    rules.DRIFT_RATING_HISTOGRAM,
    rules.DRIFT_USER_COUNT,
    rules.DRIFT_BOOK_COUNT,
)
# A rule the validator may add later still blocks, under this catch-all check.
OTHER_RULES = "other_rules"


def validation_check_specs() -> list[dg.AssetCheckSpec]:
    """The check specs attached to ``validated_ratings``."""
    specs = [
        dg.AssetCheckSpec(
            rule, asset=VALIDATED_RATINGS, blocking=True, description=rules.RULES[rule]
        )
        for rule in BLOCKING_RULES
    ]
    specs.append(
        dg.AssetCheckSpec(
            OTHER_RULES,
            asset=VALIDATED_RATINGS,
            blocking=True,
            description="any validation rule without a dedicated check",
        )
    )
    specs.extend(
        dg.AssetCheckSpec(rule, asset=VALIDATED_RATINGS, description=rules.RULES[rule])
        for rule in WARNING_RULES
    )
    return specs


def blocking_violations(report: ValidationReport) -> list[Violation]:
    """Violations that must stop the pipeline (every rule except drift)."""
    return [v for v in report.violations if v.rule not in WARNING_RULES]


def validation_check_results(report: ValidationReport) -> Iterator[dg.AssetCheckResult]:
    """One result per declared check, with counts, messages and example rows."""
    by_rule: dict[str, list[Violation]] = {}
    for violation in report.violations:
        known = violation.rule in BLOCKING_RULES or violation.rule in WARNING_RULES
        by_rule.setdefault(violation.rule if known else OTHER_RULES, []).append(violation)
    for rule in (*BLOCKING_RULES, OTHER_RULES, *WARNING_RULES):
        found = by_rule.get(rule, [])
        severity = (
            dg.AssetCheckSeverity.WARN if rule in WARNING_RULES else dg.AssetCheckSeverity.ERROR
        )
        evaluated = rule in report.rules_checked or rule == OTHER_RULES
        yield dg.AssetCheckResult(
            check_name=rule,
            passed=not found,
            severity=severity,
            description="; ".join(v.message for v in found) or None,
            metadata=_violation_metadata(found, evaluated),
        )


def _violation_metadata(found: list[Violation], evaluated: bool) -> dict[str, Any]:
    examples = [_jsonable(e) for v in found for e in v.examples][:10]
    return {
        "violations": dg.MetadataValue.int(sum(v.count for v in found)),
        "evaluated": dg.MetadataValue.bool(evaluated),
        "messages": dg.MetadataValue.json([v.message for v in found]),
        "examples": dg.MetadataValue.json(examples),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


@dg.asset_check(
    asset="registered_model",
    description="Post-deploy smoke test: the champion loads and recommends for known users. "
    "A failure triggers rollback_job through champion_rollback_sensor.",
)
def champion_smoke_check(registry: RegistryResource) -> dg.AssetCheckResult:
    from gbrec_core.errors import GbrecError

    model_registry = registry.registry()
    champion = model_registry.champion()
    if champion is None:
        return dg.AssetCheckResult(passed=False, description="no version holds alias champion")
    try:
        bundle = model_registry.load(champion.version)
        model = bundle.model
        users = model.users.ids[:5] if model.users is not None else np.array([1])
        ids, _ = model.recommend(users, k=10)
    except GbrecError as e:
        return dg.AssetCheckResult(
            passed=False,
            description=f"champion v{champion.version} failed to serve: {e}",
            metadata={"version": champion.version, "error": type(e).__name__},
        )
    served = int((ids >= 0).sum())
    return dg.AssetCheckResult(
        passed=served > 0,
        description=None if served else f"champion v{champion.version} recommended nothing",
        metadata={"version": champion.version, "recommended_items": served},
    )
