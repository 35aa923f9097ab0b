"""Fixtures of the data-layer tests: a tiny synthetic set and a clean mixed real folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gbrec_core.data import generate


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic data set, generated once per session (read-only for tests)."""
    return generate("tiny", tmp_path_factory.mktemp("tiny"), seed=7)


@pytest.fixture
def real_dir(goodbooks_dir: Path, tmp_path: Path) -> Path:
    """Real books.csv/tags.csv with the real 100-row samples of the other three files."""
    folder = tmp_path / "real"
    folder.mkdir()
    for name in ("books.csv", "tags.csv"):
        shutil.copy(goodbooks_dir / name, folder / name)
    for name in ("ratings.csv", "book_tags.csv", "to_read.csv"):
        shutil.copy(goodbooks_dir / "samples" / name, folder / name)
    return folder


@pytest.fixture
def ratings_csv(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write ratings text (header included) to a file and return its path."""

    def write(text: str, name: str = "ratings.csv") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
