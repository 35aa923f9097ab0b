"""``gbrec models list|deploy|rollback``: the registry's versions and the champion,
the CLI twins of ``modelVersions``, ``deployModel`` and ``rollbackModel``.

Deploy loads and warms the version here first (a bundle that does not load or verify
is refused before the alias moves), then moves ``champion`` in the registry; running
API processes follow within ``GBREC_MODEL_WATCH_INTERVAL``. Both are audited like
the mutations (same operation names and arguments).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from gbrec_core.access.audited import operator_id, run_audited
from gbrec_core.cli.output import JSON_OPTION, attempt, emit_json, emit_table
from gbrec_core.registry import ModelRegistry
from gbrec_core.registry.types import Deployment, ModelVersionInfo
from gbrec_core.settings import Settings

app = typer.Typer(help="Registered model versions and the champion.", no_args_is_help=True)


def _version_json(v: ModelVersionInfo) -> dict[str, object]:
    return {
        "version": v.version,
        "aliases": v.aliases,
        "model": v.model,
        "metrics": v.metrics,
        "createdAt": v.created_at.isoformat(),
    }


@app.command("list")
def list_(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """Every registered version, newest first, with aliases and offline metrics."""
    settings = Settings()
    found = attempt(ModelRegistry(settings).versions)
    if as_json:
        emit_json([_version_json(v) for v in found])
        return
    metric = settings.primary_metric
    rows = [
        [v.version, ", ".join(v.aliases), v.model, _number(v.metrics.get(metric)), v.created_at]
        for v in found
    ]
    columns = ["version", "aliases", "model", f"{metric}@{settings.eval_k}", "created"]
    emit_table(settings.model_name, columns, rows)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _move(operation: str, arguments: dict[str, object], move: Callable[..., Deployment]) -> None:
    settings = Settings()

    def action() -> Deployment:
        from gbrec_core.serving.server import ModelServer

        server = ModelServer(settings, ModelRegistry(settings), precompute_on_demand=True)
        try:
            return move(server)
        finally:
            server.stop()

    done = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation=operation,
            arguments=arguments,
            action=action,
            summary=Deployment.summary,
        )
    )
    emit_json(done.summary())


@app.command("deploy")
def deploy(version: Annotated[str, typer.Argument(help="A version number or alias.")]) -> None:
    """Make VERSION champion (loaded and verified first); prints the deployment."""
    _move("deployModel", {"version": version}, lambda server: server.deploy(version))


@app.command("rollback")
def rollback() -> None:
    """Return the champion alias to the previous champion; prints the deployment."""
    _move("rollbackModel", {}, lambda server: server.rollback())
