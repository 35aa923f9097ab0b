"""CLI commands contributed by gbrec_assets (registered through the gbrec.cli entry point)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

console = Console(stderr=True)


def _progress_callback(console: Console, total: int) -> Callable[[Any], None]:
    import dagster as dg

    done = {"n": 0}

    def on_event(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        if event.is_step_start:
            console.print(f"[dim]>[/] {step} ...")
        elif event.is_step_success:
            done["n"] += 1
            console.print(f"[green]ok[/] {step} [dim]({done['n']}/{total})[/]")
        elif event.is_step_failure:
            console.print(f"[red]FAILED[/] {step}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.asset_check_evaluation_data
            if not data.passed:
                console.print(f"  [red]check failed[/] {data.check_name}: {data.description}")

    return on_event


def quiet_framework_noise() -> None:
    """Keep the CLI's progress readable: Dagster's beta notices and MLflow's INFO chatter
    are for developers of those libraries, not for someone running the pipeline."""
    import logging
    import warnings

    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning):
        warnings.filterwarnings("ignore", category=category)
    import os

    warnings.filterwarnings("ignore", message="(?s).*Add type hints to the `predict` method")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # gbrec logs its pyfunc wrapper on purpose; MLflow's generic pickling notice adds nothing.
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def materialize(
    select: str | None = typer.Option(
        None, "--select", "-s", help="Dagster asset selection, e.g. 'raw_ratings+' (default: all)."
    ),
) -> None:
    """Materialise the asset graph in-process (data -> models -> registry -> indices)."""
    quiet_framework_noise()  # before importing the definitions, which warn at import time
    from gbrec_assets.runner import build_job, materialize_graph, open_instance
    from gbrec_core.settings import Settings

    settings = Settings()
    settings.ensure_home()
    instance = open_instance(settings)
    total = len(build_job(settings, select).nodes_in_topological_order)
    console.print(f"[bold]Materialising[/] {select or 'all assets'} into {settings.resolved_home}")
    outcome = materialize_graph(
        settings, instance, select, _progress_callback(console, total), log_level="WARNING"
    )
    if outcome.success:
        console.print(f"[green]done[/]: {len(outcome.materialized)} assets (run {outcome.run_id})")
        return
    for check in outcome.failed_checks:
        console.print(
            f"[red]blocking check failed[/] {check.asset}:{check.check}: {check.description}"
        )
    for step, message in outcome.failed_steps.items():
        console.print(f"[red]step failed[/] {step}: {message}")
    console.print(f"[red]run {outcome.run_id} failed[/]; downstream assets were not run")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
    app.command("materialize")(materialize)
