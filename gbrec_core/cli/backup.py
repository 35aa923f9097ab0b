"""``gbrec backup DIR`` and ``gbrec restore DIR`` (see :mod:`gbrec_core.backup`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")]


def backup(
    directory: Annotated[Path, typer.Argument(help="A new or empty folder.")],
    as_json: JsonFlag = False,
) -> None:
    """Save Redis (experiments, keys, audit log), the registry, artifacts and secrets."""
    from gbrec_core.backup import backup as run_backup

    summary = _run(lambda: run_backup(Settings(), directory).as_dict())
    _report(summary, as_json, "backed up into")
    if not as_json:
        Console(stderr=True).print(
            "[yellow]The backup holds the signing and pseudonym keys: store it like a key.[/]"
        )


def restore(
    directory: Annotated[Path, typer.Argument(help="A folder written by `gbrec backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a home that already has state.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Put a backup back into GBREC_HOME (stop the API and Dagster first)."""
    from gbrec_core.backup import restore as run_restore

    summary = _run(lambda: run_restore(Settings(), directory, force=force).as_dict())
    _report(summary, as_json, "restored from")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def _run(action: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = action()
    except GbrecError as e:
        Console(stderr=True).print(f"[red]{e}[/]")
        raise typer.Exit(1) from e
    return result


def _report(summary: dict[str, Any], as_json: bool, verb: str) -> None:
    if as_json:
        typer.echo(json.dumps(summary, sort_keys=True))
        return
    registry = "copied" if summary["registry"].get("copied") else summary["registry"]["note"]
    artifacts = "copied" if summary["artifacts"].get("copied") else summary["artifacts"]["note"]
    typer.echo(f"{verb} {summary['path']}")
    typer.echo(f"  redis keys: {summary['redis']['keys']}")
    typer.echo(f"  registry:   {registry}")
    typer.echo(f"  artifacts:  {artifacts}")
    typer.echo(f"  secrets:    {', '.join(summary['secrets']) or 'none (keys set in settings)'}")
