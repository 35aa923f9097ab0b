"""Validation report types, thresholds and the stable rule names.

Rule names are a contract: Dagster asset checks, the CLI and dashboards key on
them. Add new ones; never rename.
"""

from __future__ import annotations

import dataclasses
from typing import Any

MISSING_FILE = "missing_file"
EMPTY_FILE = "empty_file"
MALFORMED_ROW = "malformed_row"
MISSING_COLUMN = "missing_column"
EXTRA_COLUMN = "extra_column"
UNPARSABLE_VALUE = "unparsable_value"
WRONG_TYPE = "wrong_type"
NULL_VALUE = "null_value"
RATING_OUT_OF_RANGE = "rating_out_of_range"
VALUE_OUT_OF_RANGE = "value_out_of_range"
NON_POSITIVE_ID = "non_positive_id"
DUPLICATE_RATING = "duplicate_rating"
DUPLICATE_KEY = "duplicate_key"
UNKNOWN_BOOK = "unknown_book"
UNKNOWN_TAG = "unknown_tag"
USER_BELOW_MIN_RATINGS = "user_below_min_ratings"
DRIFT_RATING_MEAN = "drift_rating_mean"
DRIFT_RATING_HISTOGRAM = "drift_rating_histogram"
DRIFT_USER_COUNT = "drift_user_count"
DRIFT_BOOK_COUNT = "drift_book_count"

RULES: dict[str, str] = {
    MISSING_FILE: "a required file is absent from the folder",
    EMPTY_FILE: "the file is empty or has a header but no rows",
    MALFORMED_ROW: "a line has the wrong number of fields",
    MISSING_COLUMN: "a required column is absent",
    EXTRA_COLUMN: "a column not in the schema is present",
    UNPARSABLE_VALUE: "a value does not parse as the column's type (e.g. 'abc' as an id)",
    WRONG_TYPE: "a value parses as a number of the wrong type (e.g. 4.5 in an integer column)",
    NULL_VALUE: "a non-nullable column has an empty value",
    RATING_OUT_OF_RANGE: "a rating is outside 1..5",
    VALUE_OUT_OF_RANGE: "a non-id value is outside its documented bounds",
    NON_POSITIVE_ID: "an id is below its minimum (1 for users/books, 0 for tags)",
    DUPLICATE_RATING: "the same (user_id, book_id) pair is rated more than once",
    DUPLICATE_KEY: "a primary key (book_id, tag_id) repeats",
    UNKNOWN_BOOK: "a rating/to-read/book-tag references a book absent from books.csv",
    UNKNOWN_TAG: "book_tags.csv references a tag_id absent from tags.csv",
    USER_BELOW_MIN_RATINGS: "a user has fewer ratings than ValidationConfig.min_user_ratings",
    DRIFT_RATING_MEAN: "the rating mean moved more than the threshold vs the previous snapshot",
    DRIFT_RATING_HISTOGRAM: "the rating histogram's total-variation distance exceeds the threshold",
    DRIFT_USER_COUNT: "the number of users changed by more than the relative threshold",
    DRIFT_BOOK_COUNT: "the number of books changed by more than the relative threshold",
}


@dataclasses.dataclass(frozen=True)
class ValidationConfig:
    """Thresholds of the validator; drift rules only run when a previous snapshot is given."""

    min_user_ratings: int = 1
    max_examples: int = 5
    max_rating_mean_shift: float = 0.1
    max_histogram_distance: float = 0.05
    max_user_count_change: float = 0.25
    max_book_count_change: float = 0.25
    check_references: bool = True
    required_files: tuple[str, ...] = (
        "ratings.csv",
        "books.csv",
        "tags.csv",
        "book_tags.csv",
        "to_read.csv",
    )


@dataclasses.dataclass(frozen=True)
class Violation:
    """One violated rule: how often, a human message and a few offending rows."""

    rule: str
    count: int
    message: str
    examples: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ValidationReport:
    """Every rule evaluated and every rule violated, for one file or a folder."""

    violations: list[Violation] = dataclasses.field(default_factory=list)
    rules_checked: list[str] = dataclasses.field(default_factory=list)
    rows: dict[str, int] = dataclasses.field(default_factory=dict)
    snapshot: Any = None  # DataSnapshot of the ratings when they could be parsed

    @property
    def ok(self) -> bool:
        return not self.violations

    def rules_violated(self) -> list[str]:
        return sorted({v.rule for v in self.violations})

    def check(self, rule: str) -> None:
        if rule not in self.rules_checked:
            self.rules_checked.append(rule)

    def add(self, violation: Violation) -> None:
        self.check(violation.rule)
        self.violations.append(violation)

    def merge(self, other: ValidationReport) -> None:
        for rule in other.rules_checked:
            self.check(rule)
        self.violations.extend(other.violations)
        self.rows.update(other.rows)
        if other.snapshot is not None:
            self.snapshot = other.snapshot

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": [v.to_dict() for v in self.violations],
            "rules_checked": list(self.rules_checked),
            "rows": dict(self.rows),
            "snapshot": None if self.snapshot is None else self.snapshot.to_dict(),
        }
