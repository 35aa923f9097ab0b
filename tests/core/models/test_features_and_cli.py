"""Tag features from the real GoodBooks files, and ``gbrec train`` end to end on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from gbrec_core.cli import train as train_cli
from gbrec_core.data import generate, load_book_tags, load_books, load_tags
from gbrec_core.models import books_with_tags, load_recommender, make_recommender


def test_books_with_tags_joins_on_goodreads_id(goodbooks_dir: Path) -> None:
    books = load_books(goodbooks_dir / "books.csv")
    book_tags = load_book_tags(goodbooks_dir / "samples" / "book_tags.csv")
    tags = load_tags(goodbooks_dir / "tags.csv")
    out = books_with_tags(books, book_tags, tags, top_n=5)
    assert len(out) == len(books) and "tags" in out
    # goodreads_book_id 1 is not book_id 1: the join must go through goodreads_book_id.
    row = out.loc[out["goodreads_book_id"] == 1].iloc[0]
    names = dict(zip(tags["tag_id"], tags["tag_name"], strict=True))
    sample = book_tags[book_tags["goodreads_book_id"] == 1].nlargest(5, "count")
    assert row["tags"] == {
        names[t]: float(c) for t, c in zip(sample["tag_id"], sample["count"], strict=True)
    }
    tagged = set(book_tags["goodreads_book_id"]) & set(books["goodreads_book_id"])
    assert sum(bool(t) for t in out["tags"]) == len(tagged)


def test_content_serves_cold_start_book() -> None:
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "book_id": [10, 11, 12], "rating": [5, 4, 5]})
    books = pd.DataFrame(
        {
            "book_id": [10, 11, 12, 13],
            "authors": ["A", "A", "B", "A"],
            "tags": [{"dragons": 9.0}, {"dragons": 5.0}, {"cooking": 3.0}, {"dragons": 2.0}],
        }
    )
    model = make_recommender("content").fit(ratings, books)
    ids, _ = model.recommend(np.array([1]), k=1)
    assert ids[0, 0] == 13  # never rated, but matches user 1's profile
    similar, _ = model.similar_items(np.array([13]), k=2)
    assert set(similar[0]) == {10, 11}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate("tiny", tmp_path_factory.mktemp("tiny"), seed=3)


def _app() -> typer.Typer:
    app = typer.Typer()
    train_cli.register(app)

    @app.command()
    def noop() -> None:  # a second command keeps typer in multi-command mode
        """Unused."""

    return app


def test_train_cli_json_and_save(tiny_data: Path, tmp_path: Path) -> None:
    args = ["train", "--model", "ease", "--data", str(tiny_data), "--k", "5", "--json"]
    result = CliRunner().invoke(_app(), [*args, "--save", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["model"] == "ease" and summary["k"] == 5
    assert set(summary["metrics"]) == {"precision", "recall", "ndcg", "map", "hit_rate", "coverage"}
    assert 0.0 < summary["metrics"]["ndcg"] <= 1.0
    assert load_recommender(tmp_path / "m").name == "ease"


def test_train_cli_table_and_unknown_model(tiny_data: Path) -> None:
    ok = CliRunner().invoke(_app(), ["train", "--model", "popularity", "--data", str(tiny_data)])
    assert ok.exit_code == 0, ok.output
    assert "ndcg@10" in ok.output
    bad = CliRunner().invoke(_app(), ["train", "--model", "nope", "--data", str(tiny_data)])
    assert bad.exit_code == 2 and "unknown model" in bad.output
