"""``gbrec prune``: apply ``GBREC_KEEP_VERSIONS`` now (what the daily Dagster
``retention_job`` does), or only show what would go; on an API host with a home of its
own it also clears that home's copies of versions pruned elsewhere."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings


def prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Prune registry versions beyond GBREC_KEEP_VERSIONS (no alias, no running experiment)."""
    from gbrec_core.registry.retention import prune_home

    try:
        report = prune_home(Settings(), dry_run=dry_run)
    except GbrecError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps(report.as_dict(), sort_keys=True))
    else:
        verb = "would prune" if dry_run else "pruned"
        typer.echo(f"kept {', '.join(report.kept) or 'nothing'} (keep {report.keep})")
        for item in report.pruned:
            typer.echo(f"{verb} v{item.version}: {', '.join(item.removed) or 'nothing'}")
        if report.orphans:
            typer.echo(f"local copies of {', '.join(report.orphans)} ({verb})")
        if report.models:
            typer.echo(f"unregistered logged models {', '.join(report.models)} ({verb})")
        for failure in report.failures:
            typer.echo(f"failed: {failure}", err=True)
    if report.failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("prune")(prune)
