"""Validation of a whole GoodBooks folder, including cross-file references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gbrec_core.data import report as r
from gbrec_core.data import schema
from gbrec_core.data.report import ValidationConfig, ValidationReport, Violation
from gbrec_core.data.table_checks import check_table
from gbrec_core.data.validation import PreviousArg, check_references, validate_ratings


def _ids(frame: pd.DataFrame | None, column: str) -> np.ndarray | None:
    return None if frame is None else np.unique(frame[column].to_numpy(dtype=np.int64))


def _present(folder: Path, file: str, config: ValidationConfig, out: ValidationReport) -> bool:
    out.check(r.MISSING_FILE)
    if (folder / file).is_file():
        return True
    if file in config.required_files:
        out.add(Violation(r.MISSING_FILE, 1, f"{file} not found in {folder}", file=file))
    return False


def validate_dataset(
    folder: str | Path,
    previous: PreviousArg = None,
    config: ValidationConfig | None = None,
) -> ValidationReport:
    """Every rule on every file of ``folder`` (schemas, references, drift of the ratings)."""
    folder = Path(folder)
    config = config or ValidationConfig()
    limit = config.max_examples
    out = ValidationReport()
    if not folder.is_dir():
        out.add(Violation(r.MISSING_FILE, 1, f"data folder {folder} does not exist"))
        return out
    books = tags = None
    if _present(folder, schema.BOOKS_FILE, config, out):
        result = check_table(folder / schema.BOOKS_FILE, schema.BOOKS, limit)
        out.merge(result.report)
        books = result.clean
    if _present(folder, schema.TAGS_FILE, config, out):
        result = check_table(folder / schema.TAGS_FILE, schema.TAGS, limit)
        out.merge(result.report)
        tags = result.clean
    refs = config.check_references
    if _present(folder, schema.RATINGS_FILE, config, out):
        out.merge(validate_ratings(folder / schema.RATINGS_FILE, books, previous, config))
    if _present(folder, schema.BOOK_TAGS_FILE, config, out):
        result = check_table(folder / schema.BOOK_TAGS_FILE, schema.BOOK_TAGS, limit)
        out.merge(result.report)
        if refs and result.clean is not None:
            check_references(
                result.clean,
                "goodreads_book_id",
                _ids(books, "goodreads_book_id"),
                r.UNKNOWN_BOOK,
                schema.BOOK_TAGS_FILE,
                out,
                limit,
            )
            check_references(
                result.clean,
                "tag_id",
                _ids(tags, "tag_id"),
                r.UNKNOWN_TAG,
                schema.BOOK_TAGS_FILE,
                out,
                limit,
            )
    if _present(folder, schema.TO_READ_FILE, config, out):
        result = check_table(folder / schema.TO_READ_FILE, schema.TO_READ, limit)
        out.merge(result.report)
        if refs and result.clean is not None:
            check_references(
                result.clean,
                "book_id",
                _ids(books, "book_id"),
                r.UNKNOWN_BOOK,
                schema.TO_READ_FILE,
                out,
                limit,
            )
    return out
