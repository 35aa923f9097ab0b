"""How admin commands report: a rich table for people, one JSON document for scripts,
and exit codes a script can branch on.

Exit codes: 0 done; 1 refused or failed (unknown id, bad input, a check failed);
2 wrong usage (typer's own); 3 a dependency (Redis, MLflow) is unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from gbrec_core.errors import GbrecError

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_UNAVAILABLE = 3


def fail(error: GbrecError) -> NoReturn:
    typer.echo(f"error: {error}", err=True)
    code = EXIT_UNAVAILABLE if error.code == "UNAVAILABLE" else EXIT_FAILED
    raise typer.Exit(code) from error


def attempt(call: Callable[[], T]) -> T:
    """``call()``, with a GbrecError turned into its message and exit code."""
    try:
        return call()
    except GbrecError as e:
        fail(e)


def emit_json(document: object) -> None:
    typer.echo(json.dumps(document, default=str))


def emit_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


JSON_OPTION = typer.Option("--json", help="Print one JSON document instead of a table.")
