"""``validated_ratings`` (guarded by blocking checks) and ``rating_splits``."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from gbrec_assets.assets.raw import SourceFile
from gbrec_assets.automation import downstream_condition
from gbrec_assets.checks import (
    blocking_violations,
    validation_check_results,
    validation_check_specs,
)
from gbrec_assets.resources import GbrecSettingsResource

SNAPSHOT_KEY = "snapshot"


def frame_metadata(frame: pd.DataFrame) -> dict[str, Any]:
    """Row count and schema, in Dagster's standard metadata keys."""
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(str(c), str(t)) for c, t in frame.dtypes.items()]
        ),
    }


def data_fingerprint(context: dg.AssetExecutionContext) -> dict[str, Any]:
    """The validated data's fingerprint, from the latest ``validated_ratings`` metadata."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey("validated_ratings"))
    if event is None or event.asset_materialization is None:
        raise dg.Failure("validated_ratings has never been materialised")
    snapshot = event.asset_materialization.metadata[SNAPSHOT_KEY].value
    return {key: snapshot[key] for key in ("sha256", "rows", "users", "books")}


def _previous_snapshot(context: dg.AssetExecutionContext) -> Any:
    """The snapshot recorded by the last successful materialisation (drift baseline)."""
    from gbrec_core.data import DataSnapshot

    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return None
    entry = event.asset_materialization.metadata.get(SNAPSHOT_KEY)
    return None if entry is None else DataSnapshot.from_dict(entry.value)


@dg.asset(
    group_name="data",
    check_specs=validation_check_specs(),
    output_required=False,
    automation_condition=downstream_condition(),
    description="ratings.csv parsed with compact dtypes, only after every rule passed.",
)
def validated_ratings(
    context: dg.AssetExecutionContext,
    gbrec: GbrecSettingsResource,
    raw_ratings: SourceFile,
    raw_books: SourceFile,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    from gbrec_core.data import ValidationConfig, load_ratings, validate_ratings

    settings = gbrec.settings()
    report = validate_ratings(
        raw_ratings.path,
        books=raw_books.path,
        previous=_previous_snapshot(context),
        config=ValidationConfig(min_user_ratings=settings.min_user_ratings),
    )
    yield from validation_check_results(report)
    failed = blocking_violations(report)
    if failed:
        # No output: Dagster then fails the step on the failed blocking checks, so
        # nothing downstream runs and nothing invalid is ever stored as "validated".
        for violation in failed:
            context.log.error(f"{violation.rule}: {violation.message}")
        return
    ratings = load_ratings(raw_ratings.path)
    snapshot = report.snapshot
    yield dg.Output(
        ratings,
        data_version=dg.DataVersion(snapshot.sha256),
        metadata={
            **frame_metadata(ratings),
            "users": dg.MetadataValue.int(snapshot.users),
            "books": dg.MetadataValue.int(snapshot.books),
            "fingerprint": snapshot.sha256,
            SNAPSHOT_KEY: dg.MetadataValue.json(snapshot.to_dict()),
        },
    )


@dg.asset(
    group_name="data",
    automation_condition=downstream_condition(),
    description="Temporal holdout: the last 20% of each user's ratings, positives only.",
)
def rating_splits(validated_ratings: pd.DataFrame) -> dg.Output[Any]:
    from gbrec_core.data import temporal_split

    split = temporal_split(validated_ratings)
    return dg.Output(
        split,
        metadata={
            "train_rows": dg.MetadataValue.int(len(split.train)),
            "test_rows": dg.MetadataValue.int(len(split.test)),
            "test_users": dg.MetadataValue.int(int(split.test["user_id"].nunique())),
            "dagster/row_count": dg.MetadataValue.int(len(split.train) + len(split.test)),
        },
    )
