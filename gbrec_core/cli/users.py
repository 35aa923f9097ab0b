"""``gbrec users delete USER_ID``: the ``deleteUser`` mutation's twin, for operators.

It erases the same data the mutation does (:func:`gbrec_core.privacy.delete_user`),
through the same Redis, and writes one audit entry (operation ``deleteUser``, key id
``cli``), success or failure. Its own process holds no buffered writes; API processes
may (see docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer

from gbrec_core.errors import GbrecError
from gbrec_core.privacy import ErasureReport
from gbrec_core.settings import Settings

app = typer.Typer(help="Users: privacy requests.", no_args_is_help=True)
CLI_KEY_ID = "cli"


def erase(settings: Settings, user_id: int) -> ErasureReport:
    """Run the erasure with this process's own (empty-buffered) services."""
    from gbrec_core.experiments import ExperimentService
    from gbrec_core.monitoring import OnlineMonitor
    from gbrec_core.privacy import delete_user
    from gbrec_core.store import connect

    client = connect(settings)
    try:
        experiments = ExperimentService(settings, client)
        monitor = OnlineMonitor.from_settings(settings, client)
        return delete_user(experiments, monitor, user_id)
    finally:
        client.close()


def audit(settings: Settings, user_id: int, result: dict[str, Any], ok: bool) -> None:
    """The command's one audit entry (kept in one place for the audit log's evolution)."""
    from gbrec_core.access import AuditLog
    from gbrec_core.store import connect_async

    async def write() -> None:
        client = connect_async(settings)
        try:
            log = AuditLog(client, max_entries=settings.audit_max_entries)
            await log.write(
                key_id=CLI_KEY_ID,
                operation="deleteUser",
                arguments={"userId": user_id},
                result=result,
                ok=ok,
            )
        finally:
            await client.aclose()

    asyncio.run(write())


@app.command("delete")
def delete(
    user_id: Annotated[int, typer.Argument(help="The data set's user id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as one JSON object.")
    ] = False,
) -> None:
    """Erase USER_ID's experiment and serving data (state, raw events, served records)."""
    settings = Settings()
    try:
        report = erase(settings, user_id)
    except GbrecError as e:
        _audit_quietly(settings, user_id, {"error": e.code, "message": str(e)}, ok=False)
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    try:
        audit(settings, user_id, report.as_json(), ok=True)
    except GbrecError as e:  # erased, but unaudited: say so and fail the command
        typer.echo(f"error: user {user_id} erased but the audit entry failed: {e}", err=True)
        raise typer.Exit(1) from e
    _print(report, as_json)


def _audit_quietly(settings: Settings, user_id: int, result: dict[str, Any], ok: bool) -> None:
    """Audit a failed erasure; when Redis is gone the audit fails too (reported, not
    raised: the erasure's own error is the one to show)."""
    try:
        audit(settings, user_id, result, ok)
    except GbrecError as e:
        typer.echo(f"warning: the audit entry failed too: {e}", err=True)


def _print(report: ErasureReport, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.removed().items())
    typer.echo(f"user {report.user_id} erased: {counts}")
