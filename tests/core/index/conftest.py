"""Fixtures for the index tests: one Milvus Lite engine per module (it takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus Lite ``.db`` file; Milvus Lite runs one real engine process per data folder."""
    pytest.importorskip("pymilvus")
    pytest.importorskip("milvus_lite")
    folder: Path = tmp_path_factory.mktemp("milvus")
    uri = str(folder / "milvus.db")
    yield uri
