"""``gbrec users delete USER_ID``: the ``deleteUser`` mutation's twin, for operators.

It erases the same data the mutation does (:func:`gbrec_core.privacy.delete_user`),
through the same Redis, audited like the API's admin actions (operation ``deleteUser``,
intent and outcome, operator = the operating-system user). Its own process holds no
buffered writes; API processes drop theirs at replay (see docs/privacy.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

from gbrec_core.access.audited import operator_id, run_audited
from gbrec_core.cli.output import JSON_OPTION, attempt, emit_json
from gbrec_core.privacy import ErasureReport
from gbrec_core.settings import Settings

app = typer.Typer(help="Users: privacy requests.", no_args_is_help=True)


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


@app.command("delete")
def delete(
    user_id: Annotated[int, typer.Argument(help="The data set's user id.")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Erase USER_ID's experiment and serving data (state, raw events, served records)."""
    settings = Settings()
    report = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation="deleteUser",
            arguments={"userId": user_id},
            action=lambda: erase(settings, user_id),
            summary=ErasureReport.as_json,
        )
    )
    if as_json:
        emit_json(report.as_json())
        return
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.removed().items())
    typer.echo(f"user {report.user_id} erased: {counts}")
