"""Validation of GoodBooks files: every violated rule, with counts and examples.

``validate_ratings`` and ``validate_dataset`` never stop at the first problem:
they evaluate every rule (listed in ``ValidationReport.rules_checked``) and
report each violated one. Rule names live in :mod:`gbrec_core.data.report`.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from gbrec_core.data import report as r
from gbrec_core.data import schema
from gbrec_core.data.drift import check_drift
from gbrec_core.data.report import ValidationConfig, ValidationReport, Violation
from gbrec_core.data.snapshot import DataSnapshot
from gbrec_core.data.table_checks import TableResult, check_table, examples

logger = logging.getLogger(__name__)

BooksArg = pd.DataFrame | str | Path | None
PreviousArg = DataSnapshot | str | Path | None


def _table(source: pd.DataFrame | str | Path, spec: schema.TableSpec, limit: int) -> TableResult:
    if isinstance(source, pd.DataFrame):
        # Frames go through the same parser as files so both paths share every rule.
        with tempfile.TemporaryDirectory(prefix="gbrec-validate-") as tmp:
            path = Path(tmp) / spec.file
            source.to_csv(path, index=False)
            return check_table(path, spec, limit)
    path = Path(source)
    if not path.is_file():
        out = ValidationReport()
        out.add(Violation(r.MISSING_FILE, 1, f"{spec.file} not found at {path}", file=spec.file))
        return TableResult(out, None)
    return check_table(path, spec, limit)


def _known_ids(source: BooksArg, column: str, limit: int) -> np.ndarray | None:
    if source is None:
        return None
    if isinstance(source, pd.DataFrame) and column in source.columns:
        return np.unique(source[column].dropna().to_numpy(dtype=np.int64))
    clean = _table(source, schema.BOOKS, limit).clean
    return None if clean is None else np.unique(clean[column].to_numpy(dtype=np.int64))


def check_references(
    frame: pd.DataFrame,
    column: str,
    known: np.ndarray | None,
    rule: str,
    file: str,
    out: ValidationReport,
    limit: int,
) -> None:
    """Flag rows of ``frame[column]`` absent from ``known`` (skipped when unknown)."""
    if known is None:
        return
    out.check(rule)
    mask = ~np.isin(frame[column].to_numpy(dtype=np.int64), known)
    count = int(mask.sum())
    if count:
        msg = f"{count} row(s) of {file} reference a {column} absent from the reference file"
        out.add(Violation(rule, count, msg, examples(frame, mask, limit), file))


def _check_min_ratings(
    ratings: pd.DataFrame, minimum: int, out: ValidationReport, limit: int
) -> None:
    out.check(r.USER_BELOW_MIN_RATINGS)
    if minimum <= 1:
        return
    counts = ratings["user_id"].value_counts()
    low = counts[counts < minimum].sort_index()
    if len(low):
        users, sizes = low.index.to_numpy()[:limit], low.to_numpy()[:limit]
        ex = [{"user_id": int(u), "ratings": int(n)} for u, n in zip(users, sizes, strict=True)]
        msg = f"{len(low)} user(s) have fewer than {minimum} ratings"
        out.add(Violation(r.USER_BELOW_MIN_RATINGS, len(low), msg, ex, schema.RATINGS_FILE))


def _previous(previous: PreviousArg, limit: int) -> DataSnapshot | None:
    if previous is None or isinstance(previous, DataSnapshot):
        return previous
    path = Path(previous)
    if path.is_dir():
        clean = _table(path / schema.RATINGS_FILE, schema.RATINGS, limit).clean
        return None if clean is None else DataSnapshot.of(clean)
    return DataSnapshot.load(path)


def validate_ratings(
    ratings: pd.DataFrame | str | Path,
    books: BooksArg = None,
    previous: PreviousArg = None,
    config: ValidationConfig | None = None,
) -> ValidationReport:
    """Every rule for ratings.csv; ``books`` enables unknown_book, ``previous`` the drift rules.

    ``books`` is a books frame or path, ``previous`` a :class:`DataSnapshot`, its
    JSON file, or a folder holding the previous ratings.csv.
    """
    config = config or ValidationConfig()
    limit = config.max_examples
    result = _table(ratings, schema.RATINGS, limit)
    out = result.report
    if result.clean is None:
        return out
    clean = result.clean
    if config.check_references:
        known = _known_ids(books, "book_id", limit)
        check_references(clean, "book_id", known, r.UNKNOWN_BOOK, schema.RATINGS_FILE, out, limit)
    _check_min_ratings(clean, config.min_user_ratings, out, limit)
    out.snapshot = DataSnapshot.of(clean)
    before = _previous(previous, limit)
    if before is not None:
        check_drift(out.snapshot, before, config, out)
    return out


def _validate_simple(
    source: pd.DataFrame | str | Path, spec: schema.TableSpec, config: ValidationConfig | None
) -> ValidationReport:
    return _table(source, spec, (config or ValidationConfig()).max_examples).report


def validate_books(
    books: pd.DataFrame | str | Path, config: ValidationConfig | None = None
) -> ValidationReport:
    return _validate_simple(books, schema.BOOKS, config)


def validate_tags(
    tags: pd.DataFrame | str | Path, config: ValidationConfig | None = None
) -> ValidationReport:
    return _validate_simple(tags, schema.TAGS, config)


def validate_book_tags(
    book_tags: pd.DataFrame | str | Path, config: ValidationConfig | None = None
) -> ValidationReport:
    return _validate_simple(book_tags, schema.BOOK_TAGS, config)


def validate_to_read(
    to_read: pd.DataFrame | str | Path, config: ValidationConfig | None = None
) -> ValidationReport:
    return _validate_simple(to_read, schema.TO_READ, config)
