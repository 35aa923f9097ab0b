"""Typed loaders for the five GoodBooks files.

pyarrow parses straight into the declared compact dtypes (int32 ids, int8
ratings): the 6M-row ratings file loads in ~0.3 s into a 54 MB frame, with no
int64 intermediate.
Loaders are strict: a missing file or content that does not parse raises
:class:`DataLoadError`; :mod:`gbrec_core.data.validation` is what explains bad content.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from gbrec_core.data import schema
from gbrec_core.data.schema import TableSpec
from gbrec_core.errors import DataLoadError

logger = logging.getLogger(__name__)

_ARROW: dict[str, pa.DataType] = {
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "object": pa.string(),
}


@dataclasses.dataclass(frozen=True)
class GoodbooksData:
    """The five GoodBooks tables, typed."""

    ratings: pd.DataFrame
    books: pd.DataFrame
    tags: pd.DataFrame
    book_tags: pd.DataFrame
    to_read: pd.DataFrame


def read_header(path: Path) -> list[str]:
    """Column names of a CSV file (empty list for an empty file)."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        line = fh.readline().strip()
    return [c.strip().strip('"') for c in line.split(",")] if line else []


def load_table(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read ``path`` with the dtypes of ``spec``; raise DataLoadError when impossible."""
    path = Path(path)
    if not path.is_file():
        raise DataLoadError(f"{spec.file} not found at {path}")
    header = read_header(path)
    missing = [c for c in spec.names if c not in header]
    if missing:
        raise DataLoadError(
            f"{path} lacks column(s) {', '.join(missing)}; run `gbrec data validate` for details"
        )
    convert = pacsv.ConvertOptions(
        column_types={c.name: _ARROW[c.dtype] for c in spec.columns},
        include_columns=spec.names,
        null_values=[""],
        strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, OSError) as e:
        raise DataLoadError(
            f"cannot parse {path}: {e}; run `gbrec data validate` for a full report"
        ) from e
    nulls = [c.name for c in spec.columns if not c.nullable and table[c.name].null_count]
    if nulls:
        raise DataLoadError(f"{path} has empty values in {', '.join(nulls)}")
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    logger.debug("loaded %s: %d rows", path, len(frame))
    result: pd.DataFrame = frame[spec.names]
    return result


def load_ratings(path: str | Path) -> pd.DataFrame:
    """ratings.csv as user_id int32, book_id int32, rating int8 (file order = time order)."""
    return load_table(path, schema.RATINGS)


def load_books(path: str | Path) -> pd.DataFrame:
    return load_table(path, schema.BOOKS)


def load_tags(path: str | Path) -> pd.DataFrame:
    return load_table(path, schema.TAGS)


def load_book_tags(path: str | Path) -> pd.DataFrame:
    return load_table(path, schema.BOOK_TAGS)


def load_to_read(path: str | Path) -> pd.DataFrame:
    return load_table(path, schema.TO_READ)


def load_dataset(folder: str | Path) -> GoodbooksData:
    """All five files of a GoodBooks folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataLoadError(f"data folder {folder} does not exist")
    return GoodbooksData(
        ratings=load_ratings(folder / schema.RATINGS_FILE),
        books=load_books(folder / schema.BOOKS_FILE),
        tags=load_tags(folder / schema.TAGS_FILE),
        book_tags=load_book_tags(folder / schema.BOOK_TAGS_FILE),
        to_read=load_to_read(folder / schema.TO_READ_FILE),
    )
