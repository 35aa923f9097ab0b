"""``gbrec experiments list|show|stop``: the CLI twins of ``experiments``,
``experiment`` and ``stopExperiment`` (audited the same way)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from gbrec_core.access.audited import operator_id, run_audited
from gbrec_core.cli.output import JSON_OPTION, attempt, emit_json, emit_table
from gbrec_core.experiments import ExperimentService
from gbrec_core.experiments.input import spec_from_input
from gbrec_core.experiments.types import Experiment, ExperimentStatus
from gbrec_core.registry import ModelRegistry
from gbrec_core.settings import Settings
from gbrec_core.store import connect

app = typer.Typer(help="A/B experiments.", no_args_is_help=True)


def _service(settings: Settings) -> ExperimentService:
    return ExperimentService(settings, connect(settings))


def _experiment_json(e: Experiment) -> dict[str, Any]:
    return {
        **e.summary(),
        "strategy": e.spec.strategy.value,
        "variants": [
            {"name": v.name, "model": v.model, "weight": v.weight} for v in e.spec.variants
        ],
        "decision": e.decision,
        "createdAt": e.created_at.isoformat(),
    }


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="RUNNING, STOPPED, CONCLUDED...")] = None,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Experiments, optionally of one status."""
    wanted = _status(status)
    found = [_experiment_json(e) for e in attempt(lambda: _service(Settings()).find(wanted))]
    if as_json:
        emit_json(found)
        return
    columns = ("id", "status", "strategy", "coverage", "winner", "createdAt")
    emit_table("experiments", columns, [[e[c] for c in columns] for e in found])


def _status(name: str | None) -> ExperimentStatus | None:
    if name is None:
        return None
    try:
        return ExperimentStatus(name.upper())
    except ValueError:
        options = ", ".join(s.value for s in ExperimentStatus)
        raise typer.BadParameter(f"{name!r}; use one of {options}", param_hint="--status") from None


@app.command("show")
def show(
    experiment_id: Annotated[str, typer.Argument(help="The experiment id.")],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """One experiment with its current results (traffic, SRM, metric comparisons)."""
    service = _service(Settings())
    found = attempt(lambda: service.get(experiment_id))
    results = dataclasses.asdict(attempt(lambda: service.results(experiment_id)))
    if as_json:
        emit_json({**_experiment_json(found), "results": results})
        return
    emit_table(
        f"{found.id}: {found.status.value}",
        ["variant", "users", "exposures"],
        [[v["name"], v["users"], v["exposures"]] for v in results["variants"]],
    )
    columns = ("metric", "variant", "mean", "diff", "ci_low", "ci_high", "p_value")
    emit_table("metrics", columns, [[_cell(m[c]) for c in columns] for m in results["metrics"]])
    typer.echo(f"SRM ok: {results['srm_ok']}; decision: {results['decision'] or 'none yet'}")


def _cell(value: object) -> object:
    return f"{value:.4g}" if isinstance(value, float) else value


@app.command("create")
def create(
    spec_file: Annotated[
        Path, typer.Option("--file", help="JSON in the shape of GraphQL's ExperimentInput.")
    ],
) -> None:
    """Create and start an experiment (every variant's model must resolve first)."""
    settings = Settings()
    try:
        given = json.loads(spec_file.read_text())
    except (OSError, ValueError) as e:
        raise typer.BadParameter(f"{spec_file}: {e}", param_hint="--file") from e

    def action() -> Experiment:
        spec = spec_from_input(given)
        registry = ModelRegistry(settings)
        return _service(settings).create(spec, resolve_model=registry.resolve)

    done = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation="createExperiment",
            arguments=given,
            action=action,
            summary=Experiment.summary,
        )
    )
    emit_json(done.summary())


def _act(
    operation: str, experiment_id: str, move: Callable[[ExperimentService, str], Experiment]
) -> None:
    settings = Settings()
    done = attempt(
        lambda: run_audited(
            settings,
            key_id=operator_id(),
            operation=operation,
            arguments={"id": experiment_id},
            action=lambda: move(_service(settings), experiment_id),
            summary=Experiment.summary,
        )
    )
    emit_json(done.summary())


@app.command("stop")
def stop(experiment_id: Annotated[str, typer.Argument(help="The experiment id.")]) -> None:
    """Stop an experiment; its users return to the champion."""
    _act("stopExperiment", experiment_id, ExperimentService.stop)


@app.command("advance")
def advance(experiment_id: Annotated[str, typer.Argument(help="The experiment id.")]) -> None:
    """Move a STAGED experiment to its next coverage stage (guardrails checked first)."""
    _act("advanceExperiment", experiment_id, ExperimentService.advance)
