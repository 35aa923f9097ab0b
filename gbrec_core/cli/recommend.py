"""``gbrec recommend USER_ID``: the API's ``recommendations`` answer, from the command line.

The same :class:`~gbrec_core.serving.service.RecommendationService` answers, on the
registry's champion (or the user's arm of ``--experiment``), so the list, the scores,
the version and the variant are the API's for the same version. Nothing is recorded:
no exposure and no served-list entry, so a preview never counts as traffic.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gbrec_core.errors import GbrecError
from gbrec_core.serving.service import RecommendationList
from gbrec_core.settings import Settings


def answer(
    settings: Settings, user_id: int, limit: int, experiment: str | None
) -> tuple[RecommendationList, list[dict[str, Any]]]:
    """The service's answer and its items as the API shows them (camelCase)."""
    from gbrec_core.serving import CountingObserver
    from gbrec_core.serving.stack import ServingStack

    stack = ServingStack.open(settings, CountingObserver(), one_off=True)
    try:
        found = asyncio.run(stack.service.recommend(user_id, limit, experiment, record=False))
        return found, [_item(r.rank, r.score, r.book) for r in found.ranked(stack.service.catalog)]
    finally:
        stack.close()


def _item(rank: int, score: float, book: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "score": score,
        "book": {
            "id": book.id,
            "title": book.title,
            "authors": book.authors,
            "year": book.year,
            "averageRating": book.average_rating,
            "imageUrl": book.image_url,
            "tags": book.tags,
        },
    }


def as_json(found: RecommendationList, items: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``recommendations`` object of the GraphQL answer, field for field."""
    return {
        "requestId": found.request_id,
        "userId": found.user_id,
        "modelVersion": found.model_version,
        "variant": found.variant,
        "experimentId": found.experiment_id,
        "fallback": found.fallback,
        "items": items,
    }


def recommend(
    user_id: Annotated[int, typer.Argument(help="The data set's user id.")],
    limit: Annotated[int, typer.Option(help="Books to list (1-100).")] = 10,
    experiment: Annotated[
        str | None, typer.Option(help="Answer as the user's arm of this experiment.")
    ] = None,
    as_json_: Annotated[
        bool, typer.Option("--json", help="Print the API's recommendations object.")
    ] = False,
) -> None:
    """Top books for USER_ID, exactly as the API answers them (nothing is recorded)."""
    try:
        found, items = answer(Settings(), user_id, limit, experiment)
    except GbrecError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    if as_json_:
        typer.echo(json.dumps(as_json(found, items)))
        return
    _print_table(found, items)


def _print_table(found: RecommendationList, items: list[dict[str, Any]]) -> None:
    arm = f", {found.experiment_id}/{found.variant}" if found.variant else ""
    kind = "popularity fallback" if found.fallback else "personalised"
    title = f"user {found.user_id}: v{found.model_version}{arm} ({kind})"
    table = Table("rank", "score", "book", "title", "authors", title=title)
    for item in items:
        book = item["book"]
        table.add_row(
            str(item["rank"]),
            f"{item['score']:.4f}",
            str(book["id"]),
            book["title"],
            ", ".join(book["authors"]),
        )
    Console().print(table)
