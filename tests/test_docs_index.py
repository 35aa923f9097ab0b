"""docs/README.md links every document; the README's pictures exist and stay small."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\((docs/images/[^)]+\.png)\)")


def test_docs_index_links_every_document() -> None:
    index = (ROOT / "docs" / "README.md").read_text()
    linked = set(re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]*)?\)", index))
    documents = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert documents <= linked, documents - linked


def test_readme_shows_the_three_screenshots_and_each_is_small() -> None:
    images = IMAGE.findall((ROOT / "README.md").read_text())
    assert sorted(Path(i).stem for i in images) == ["dagster-assets", "dashboard", "mlflow-model"]
    for image in images:
        data = (ROOT / image).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) < 200_000, image
