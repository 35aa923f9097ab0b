"""``gbrec train``: fit one model on a temporal split, evaluate it, print the metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings


def load_training_data(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Ratings, plus books with a ``tags`` column when books.csv (and tag files) exist."""
    from gbrec_core.data import load_book_tags, load_books, load_ratings, load_tags
    from gbrec_core.models import books_with_tags

    ratings = load_ratings(folder / "ratings.csv")
    if not (folder / "books.csv").is_file():
        return ratings, None
    books = load_books(folder / "books.csv")
    if (folder / "book_tags.csv").is_file() and (folder / "tags.csv").is_file():
        books = books_with_tags(
            books, load_book_tags(folder / "book_tags.csv"), load_tags(folder / "tags.csv")
        )
    return ratings, books


def run_training(model_name: str, folder: Path, k: int, save: Path | None) -> dict[str, Any]:
    """Split, fit, evaluate; returns a JSON-ready summary."""
    from gbrec_core.data import temporal_split
    from gbrec_core.evaluation import evaluate
    from gbrec_core.models import make_recommender

    ratings, books = load_training_data(folder)
    split = temporal_split(ratings)
    model = make_recommender(model_name)
    start = time.perf_counter()
    model.fit(split.train, books)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = evaluate(model, split.train, split.test, k=k)
    eval_seconds = time.perf_counter() - start
    if save is not None:
        model.save(save)
    return {
        "model": model_name,
        "k": k,
        "data": str(folder),
        "train_rows": len(split.train),
        "test_users": int(split.test["user_id"].nunique()),
        "metrics": metrics,
        "fit_seconds": round(fit_seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "saved_to": str(save) if save is not None else None,
    }


def _print_table(summary: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{summary['model']} @ k={summary['k']} ({summary['data']})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in summary["metrics"].items():
        table.add_row(f"{name}@{summary['k']}" if name != "coverage" else name, f"{value:.4f}")
    table.add_row("train rows", f"{summary['train_rows']:,}")
    table.add_row("test users", f"{summary['test_users']:,}")
    table.add_row("fit seconds", f"{summary['fit_seconds']:.2f}")
    table.add_row("evaluate seconds", f"{summary['eval_seconds']:.2f}")
    console.print(table)


def train(
    model: Annotated[
        str, typer.Option("--model", "-m", help="popularity, als, ease, content, hybrid")
    ],
    data: Annotated[
        Path | None, typer.Option(help="Folder of GoodBooks CSVs (default: GBREC_DATASET).")
    ] = None,
    k: Annotated[int, typer.Option(min=1, help="Cut-off of the ranking metrics.")] = 10,
    save: Annotated[Path | None, typer.Option(help="Save the fitted model to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Train a model on the temporal split of a data set and print its offline metrics."""
    from gbrec_core.models import available_models

    console = Console(stderr=as_json)
    if model not in available_models():
        console.print(f"[red]unknown model '{model}'; available: {', '.join(available_models())}")
        raise typer.Exit(2)
    try:
        if data is None:
            from gbrec_core.data import resolve_dataset

            data = resolve_dataset(Settings())
        with console.status(f"training {model} on {data} ..."):
            summary = run_training(model, data, k, save)
    except GbrecError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps(summary, sort_keys=True))
    else:
        _print_table(summary, console)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to the ``gbrec`` app."""
    app.command("train")(train)
