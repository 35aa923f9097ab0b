"""CLI commands contributed by gbrec_assets (registered through the gbrec.cli entry point).

Progress goes through :class:`gbrec_core.logs.CliOutput`: rich lines on a terminal,
log records with ``GBREC_LOG_FORMAT=json`` (then every line of the output is JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from gbrec_core.logs import CliOutput, configure_logging, json_logs
from gbrec_core.settings import Settings

if TYPE_CHECKING:
    from gbrec_assets.runner import MaterializeOutcome

console = Console(stderr=True)


def _progress_callback(out: CliOutput, total: int) -> Callable[[Any], None]:
    import dagster as dg

    done = {"n": 0}

    def on_event(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        step = event.step_key or ""
        if event.is_step_start:
            out.say(f"[dim]>[/] {step} ...", step=step, event="start")
        elif event.is_step_success:
            done["n"] += 1
            out.say(
                f"[green]ok[/] {step} [dim]({done['n']}/{total})[/]",
                step=step,
                event="success",
                done=done["n"],
                total=total,
            )
        elif event.is_step_failure:
            out.say(f"[red]FAILED[/] {step}", 40, step=step, event="failure")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.asset_check_evaluation_data
            if not data.passed:
                out.say(
                    f"  [red]check failed[/] {data.check_name}: {data.description}",
                    40,
                    check=data.check_name,
                )

    return on_event


def quiet_framework_noise() -> None:
    """Keep the CLI's progress readable: Dagster's beta notices and MLflow's INFO chatter
    are for developers of those libraries, not for someone running the pipeline."""
    import logging
    import os
    import warnings

    import dagster as dg

    for category in (dg.BetaWarning, dg.PreviewWarning):
        warnings.filterwarnings("ignore", category=category)
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
    settings = Settings()
    # Text: the progress lines are the output, warnings and errors only from libraries.
    configure_logging(settings, "INFO" if json_logs(settings) else "WARNING")
    quiet_framework_noise()  # before importing the definitions, which warn at import time
    from gbrec_assets.runner import build_job, materialize_graph, open_instance

    out = CliOutput(settings, "gbrec.materialize", console)
    settings.ensure_home()
    instance = open_instance(settings)
    total = len(build_job(settings, select).nodes_in_topological_order)
    home = str(settings.resolved_home)
    out.say(f"[bold]Materialising[/] {select or 'all assets'} into {home}", home=home)
    outcome = materialize_graph(
        settings, instance, select, _progress_callback(out, total), log_level="WARNING"
    )
    report(out, outcome)


def report(out: CliOutput, outcome: MaterializeOutcome) -> None:
    """The run's summary; exit 1 when it failed."""
    run_id = outcome.run_id
    if outcome.success:
        n = len(outcome.materialized)
        out.say(f"[green]done[/]: {n} assets (run {run_id})", run_id=run_id, assets=n)
        return
    for check in outcome.failed_checks:
        out.say(
            f"[red]blocking check failed[/] {check.asset}:{check.check}: {check.description}",
            40,
            asset=check.asset,
            check=check.check,
        )
    for step, message in outcome.failed_steps.items():
        out.say(f"[red]step failed[/] {step}: {message}", 40, step=step)
    out.say(f"[red]run {run_id} failed[/]; downstream assets were not run", 40, run_id=run_id)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
    app.command("materialize")(materialize)
