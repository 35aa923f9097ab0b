"""``gbrec audit verify``: check the audit log's hash chain (exit 1 on any break)."""

from __future__ import annotations

from typing import Annotated

import typer

from gbrec_core.access.audit_chain import ChainReport
from gbrec_core.access.audited import with_audit
from gbrec_core.cli.output import EXIT_FAILED, JSON_OPTION, attempt, emit_json
from gbrec_core.settings import Settings

app = typer.Typer(help="The audit log of admin actions.", no_args_is_help=True)


def verify_audit(settings: Settings) -> ChainReport:
    return with_audit(settings, lambda audit: audit.verify())


@app.command("verify")
def verify(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Exit 0 when every entry's seal and link hold, 1 when one was edited or removed."""
    report = attempt(lambda: verify_audit(Settings()))
    if as_json:
        emit_json({"ok": report.ok, "entries": report.entries, "problems": report.problems})
    else:
        span = f"#{report.first_seq}..#{report.last_seq}" if report.entries else "empty"
        typer.echo(f"audit log: {report.entries} entries ({span})")
        for problem in report.problems:
            typer.echo(f"BROKEN: {problem}", err=True)
        typer.echo("chain intact" if report.ok else "chain broken")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)
