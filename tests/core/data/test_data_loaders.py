"""Typed loaders on the real files and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gbrec_core.data import load_books, load_dataset, load_ratings, load_tags
from gbrec_core.errors import DataLoadError


def test_real_books_and_tags_load_typed(goodbooks_dir: Path) -> None:
    books = load_books(goodbooks_dir / "books.csv")
    tags = load_tags(goodbooks_dir / "tags.csv")
    assert len(books) == 10_000 and books["book_id"].is_unique
    assert books["book_id"].dtype == np.int32
    assert books["average_rating"].dtype == np.float32
    assert books["isbn"].isna().sum() > 0  # nullable text stays missing, not ""
    assert tags["tag_id"].is_monotonic_increasing and len(tags) == 34_252


def test_sample_ratings_compact_dtypes(goodbooks_dir: Path) -> None:
    ratings = load_ratings(goodbooks_dir / "samples" / "ratings.csv")
    assert list(ratings.columns) == ["user_id", "book_id", "rating"]
    assert [str(t) for t in ratings.dtypes] == ["int32", "int32", "int8"]
    assert ratings.iloc[0].tolist() == [1, 258, 5]  # file order is preserved


def test_load_dataset_tiny(tiny_dir: Path) -> None:
    data = load_dataset(tiny_dir)
    assert set(data.ratings["book_id"]) <= set(data.books["book_id"])
    assert set(data.book_tags["tag_id"]) <= set(data.tags["tag_id"])


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(DataLoadError, match=r"ratings\.csv not found"):
        load_ratings(tmp_path / "ratings.csv")
    with pytest.raises(DataLoadError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_bad_content_raises_load_error_pointing_to_validate(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("user_id,book_id,rating\n1,2,abc\n")
    with pytest.raises(DataLoadError, match="gbrec data validate"):
        load_ratings(path)
    path.write_text("user_id,rating\n1,2\n")
    with pytest.raises(DataLoadError, match="book_id"):
        load_ratings(path)
