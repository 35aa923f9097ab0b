"""``raw_*`` assets: the landed GoodBooks files, fingerprinted.

A raw asset is the file as it arrived (path, SHA-256 of the bytes, size, row count
and header), not a parsed frame: parsing is what the blocking checks of
``validated_ratings`` guard, so a corrupt ratings file must reach those checks
instead of crashing a loader here. The SHA-256 is the asset's data version, so
downstream automation reacts to content changes, not to re-materialisations.
"""

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from gbrec_assets.resources import GbrecSettingsResource
from gbrec_core.data import schema
from gbrec_core.data.loaders import read_header

RAW_FILES: dict[str, str] = {
    "raw_ratings": schema.RATINGS_FILE,
    "raw_books": schema.BOOKS_FILE,
    "raw_tags": schema.TAGS_FILE,
    "raw_book_tags": schema.BOOK_TAGS_FILE,
}
RAW_KEYS = [dg.AssetKey(name) for name in RAW_FILES]
_CHUNK = 1 << 22


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """A landed data file and its content fingerprint."""

    path: str
    sha256: str
    bytes: int
    rows: int
    columns: tuple[str, ...]


def describe_file(path: Path) -> SourceFile:
    """Hash and count a file in one streaming pass (no parsing)."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    lines += last != b"\n"
    return SourceFile(
        path=str(path),
        sha256=digest.hexdigest(),
        bytes=path.stat().st_size,
        rows=max(lines - 1, 0),
        columns=tuple(read_header(path)),
    )


def source_metadata(source: SourceFile) -> dict[str, Any]:
    return {
        "path": dg.MetadataValue.path(source.path),
        "sha256": source.sha256,
        "bytes": dg.MetadataValue.int(source.bytes),
        "dagster/row_count": dg.MetadataValue.int(source.rows),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, "raw") for name in source.columns]
        ),
    }


@dg.multi_asset(
    outs={
        name: dg.AssetOut(
            group_name="data",
            description=f"The landed {file} of GBREC_DATASET (path + content fingerprint).",
            automation_condition=dg.AutomationCondition.on_missing(),
            is_required=False,
        )
        for name, file in RAW_FILES.items()
    },
    can_subset=True,
    retry_policy=dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL),
)
def raw_files(
    context: dg.AssetExecutionContext, gbrec: GbrecSettingsResource
) -> Iterator[dg.Output[SourceFile]]:
    from gbrec_core.data import resolve_dataset

    folder = Path(resolve_dataset(gbrec.settings()))
    for key in context.selected_asset_keys:
        name = key.to_user_string()
        path = folder / RAW_FILES[name]
        if not path.is_file():
            raise dg.Failure(f"{RAW_FILES[name]} is missing from the dataset folder {folder}")
        source = describe_file(path)
        yield dg.Output(
            source,
            output_name=name,
            data_version=dg.DataVersion(source.sha256),
            metadata=source_metadata(source),
        )
