"""``gbrec keys create|list|revoke``: the API key lifecycle, audited like the API's
admin actions (intent and outcome, operator = the operating-system user)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from gbrec_core.access import NewKey, Scope, create_key, list_keys, revoke_key
from gbrec_core.access.audited import operator_id, run_audited
from gbrec_core.cli.output import JSON_OPTION, attempt, emit_json, emit_table
from gbrec_core.settings import Settings
from gbrec_core.store import connect

app = typer.Typer(help="API keys (stored hashed in Redis).", no_args_is_help=True)


def _created(new: NewKey) -> dict[str, object]:
    expires = None if new.expires_at is None else new.expires_at.isoformat()
    return {"id": new.key_id, "scope": new.scope.label, "expiresAt": expires}


@app.command("create")
def create(
    scope: Annotated[str, typer.Option(help="admin, events or read.")],
    expires_in: Annotated[
        float | None, typer.Option("--expires-in", help="Days until the key stops working.")
    ] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Create an API key and print it once (only its SHA-256 is stored)."""
    try:
        parsed = Scope.parse(scope)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--scope") from e
    settings = Settings()
    new = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation="createKey",
            arguments={"scope": parsed.label, "expiresInDays": expires_in},
            action=lambda: create_key(connect(settings), parsed, expires_in_days=expires_in),
            summary=_created,
        )
    )
    if as_json:
        emit_json({**_created(new), "key": new.key})
        return
    until = f", expires {new.expires_at:%Y-%m-%d %H:%M} UTC" if new.expires_at else ""
    typer.echo(f"{new.scope.label} key {new.key_id}{until} (shown once, store it now):\n{new.key}")


@app.command("list")
def list_(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Every key's id, scope, status and dates (never the key)."""
    now = datetime.now(UTC)
    found = [k.as_json(now) for k in attempt(lambda: list_keys(connect(Settings())))]
    if as_json:
        emit_json(found)
        return
    columns = ("id", "scope", "status", "createdAt", "expiresAt", "revokedAt")
    emit_table("API keys", columns, [[k[c] for c in columns] for k in found])


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (gbr_...).")]) -> None:
    """Revoke a key; every API process refuses it within 5 seconds."""
    settings = Settings()
    info = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation="revokeKey",
            arguments={"id": key_id},
            action=lambda: revoke_key(connect(settings), key_id),
            summary=lambda k: {"id": k.key_id, "revokedAt": k.revoked_at},
        )
    )
    typer.echo(f"revoked {info.key_id} at {info.revoked_at}")
