"""Validation: clean real files, one named violation per corruption kind, drift, snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from gbrec_core.data import (
    RULES,
    DataSnapshot,
    ValidationConfig,
    fingerprint,
    load_ratings,
    validate_book_tags,
    validate_books,
    validate_dataset,
    validate_ratings,
    validate_tags,
    validate_to_read,
)

HEADER = "user_id,book_id,rating\n"
GOOD = "1,1,5\n1,2,4\n2,1,3\n2,3,4\n"

# corruption -> (ratings text, the rule it must trigger, its expected count)
CORRUPTIONS: dict[str, tuple[str, str, int]] = {
    "rating_7": (HEADER + GOOD + "3,1,7\n", "rating_out_of_range", 1),
    "rating_0": (HEADER + GOOD + "3,1,0\n3,2,0\n", "rating_out_of_range", 2),
    "negative_id": (HEADER + GOOD + "-4,1,4\n", "non_positive_id", 1),
    "zero_book": (HEADER + GOOD + "4,0,4\n", "non_positive_id", 1),
    "duplicate": (HEADER + GOOD + "1,1,2\n", "duplicate_rating", 1),
    "unparsable": (HEADER + GOOD + "abc,1,4\n", "unparsable_value", 1),
    "fractional": (HEADER + GOOD + "5,1,4.5\n", "wrong_type", 1),
    "null": (HEADER + GOOD + "5,,4\n", "null_value", 1),
    "malformed": (HEADER + GOOD + "5,1,4,9\n", "malformed_row", 1),
    "missing_column": ("user_id,book_id\n1,1\n", "missing_column", 1),
    "extra_column": ("user_id,book_id,rating,ts\n1,1,5,0\n", "extra_column", 1),
    "empty": ("", "empty_file", 1),
    "header_only": (HEADER, "empty_file", 1),
}


def test_rule_names_documented() -> None:
    assert len(RULES) == len(set(RULES)) >= 20
    assert all(name == name.lower() and " " not in name for name in RULES)


def test_real_files_validate_clean(goodbooks_dir: Path) -> None:
    assert validate_books(goodbooks_dir / "books.csv").ok
    assert validate_tags(goodbooks_dir / "tags.csv").ok
    samples = goodbooks_dir / "samples"
    assert validate_book_tags(samples / "book_tags.csv").ok
    assert validate_to_read(samples / "to_read.csv").ok
    assert validate_books(samples / "books.csv").ok
    report = validate_ratings(samples / "ratings.csv", books=goodbooks_dir / "books.csv")
    assert report.ok, report.violations
    assert {"unknown_book", "duplicate_rating", "rating_out_of_range"} <= set(report.rules_checked)


def test_real_folder_validates_clean(real_dir: Path) -> None:
    report = validate_dataset(real_dir)
    assert report.ok, report.violations
    assert report.rows["books.csv"] == 10_000


def test_samples_folder_clean_without_references(goodbooks_dir: Path) -> None:
    # The 100-row samples are independent excerpts: their ids do not join each other.
    config = ValidationConfig(check_references=False)
    assert validate_dataset(goodbooks_dir / "samples", config=config).ok
    broken = validate_dataset(goodbooks_dir / "samples")
    assert {"unknown_book", "unknown_tag"} <= set(broken.rules_violated())


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_each_corruption_has_its_named_violation(
    kind: str, ratings_csv: Callable[[str], Path]
) -> None:
    text, rule, count = CORRUPTIONS[kind]
    report = validate_ratings(ratings_csv(text))
    assert not report.ok
    found = [v for v in report.violations if v.rule == rule]
    assert len(found) == 1, report.violations
    assert found[0].count == count
    assert found[0].file == "ratings.csv"


def test_all_corruptions_reported_together(ratings_csv: Callable[[str], Path]) -> None:
    text = HEADER + GOOD + "3,1,7\n-4,2,4\n1,1,2\nxyz,1,4\n"
    report = validate_ratings(ratings_csv(text))
    assert {
        "rating_out_of_range",
        "non_positive_id",
        "duplicate_rating",
        "unparsable_value",
    } == set(report.rules_violated())
    bad = next(v for v in report.violations if v.rule == "rating_out_of_range")
    assert bad.examples[0]["row"] == 4 and bad.examples[0]["rating"] in (7, "7")


def test_dataframe_input_matches_file(ratings_csv: Callable[[str], Path]) -> None:
    frame = pd.DataFrame({"user_id": [1, 1, 2], "book_id": [1, 1, 2], "rating": [5, 9, 3]})
    report = validate_ratings(frame)
    assert set(report.rules_violated()) == {"rating_out_of_range", "duplicate_rating"}


def test_unknown_book_and_min_ratings(ratings_csv: Callable[[str], Path], tmp_path: Path) -> None:
    books = pd.DataFrame({"book_id": [1, 2]})
    path = ratings_csv(HEADER + GOOD)
    report = validate_ratings(path, books=books, config=ValidationConfig(min_user_ratings=3))
    unknown = next(v for v in report.violations if v.rule == "unknown_book")
    assert unknown.count == 1 and unknown.examples[0]["book_id"] == 3
    low = next(v for v in report.violations if v.rule == "user_below_min_ratings")
    assert low.count == 2 and low.examples[0] == {"user_id": 1, "ratings": 2}
    assert validate_ratings(path, config=ValidationConfig(min_user_ratings=2)).ok


def test_drift_rules(tiny_dir: Path, ratings_csv: Callable[[str], Path], tmp_path: Path) -> None:
    ratings = load_ratings(tiny_dir / "ratings.csv")
    base = validate_ratings(ratings)
    assert base.ok and base.snapshot is not None
    snap_path = base.snapshot.save(tmp_path / "snap.json")
    assert validate_ratings(ratings, previous=snap_path).ok
    assert "drift_rating_mean" in validate_ratings(ratings, previous=snap_path).rules_checked
    shifted = ratings.assign(rating=ratings["rating"].clip(upper=3))
    drift = validate_ratings(shifted, previous=DataSnapshot.load(snap_path))
    assert {"drift_rating_mean", "drift_rating_histogram"} <= set(drift.rules_violated())
    half = ratings[ratings["user_id"] % 2 == 0]
    assert "drift_user_count" in validate_ratings(half, previous=snap_path).rules_violated()
    few_books = ratings[ratings["book_id"] <= 150]
    assert "drift_book_count" in validate_ratings(few_books, previous=tiny_dir).rules_violated()
    relaxed = ValidationConfig(max_user_count_change=0.9)
    assert validate_ratings(half, previous=snap_path, config=relaxed).ok


def test_snapshot_round_trip_and_fingerprint(tiny_dir: Path, tmp_path: Path) -> None:
    ratings = load_ratings(tiny_dir / "ratings.csv")
    snap = DataSnapshot.of(ratings)
    assert DataSnapshot.load(snap.save(tmp_path / "s.json")) == snap
    assert json.loads(snap.to_json())["rows"] == len(ratings)
    fp = fingerprint(ratings)
    assert fp.sha256 == snap.sha256 and fp.rows == len(ratings)
    assert fp.users == ratings["user_id"].nunique()
    swapped = ratings.iloc[::-1].reset_index(drop=True)
    assert fingerprint(swapped).sha256 != fp.sha256  # order is time: it is part of the hash
    changed = ratings.copy()
    changed.loc[0, "rating"] = 1 if changed.loc[0, "rating"] != 1 else 2
    assert fingerprint(changed).sha256 != fp.sha256


def test_dataset_level_rules(real_dir: Path) -> None:
    (real_dir / "to_read.csv").unlink()
    tags = (real_dir / "book_tags.csv").read_text() + "1,999999,5\n"
    (real_dir / "book_tags.csv").write_text(tags)
    books = (real_dir / "books.csv").read_text().splitlines()
    (real_dir / "books.csv").write_text("\n".join([*books, books[1]]) + "\n")
    report = validate_dataset(real_dir)
    rules = {(v.file, v.rule) for v in report.violations}
    assert ("to_read.csv", "missing_file") in rules
    assert ("book_tags.csv", "unknown_tag") in rules
    assert ("books.csv", "duplicate_key") in rules
