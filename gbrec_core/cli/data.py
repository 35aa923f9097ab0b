"""``gbrec data generate | validate | download``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from gbrec_core.data import ValidationConfig, ValidationReport, validate_dataset, validate_ratings
from gbrec_core.data.download import download_dataset
from gbrec_core.data.generator import generate as generate_data
from gbrec_core.data.synthetic import SCALES, ScaleName
from gbrec_core.errors import GbrecError
from gbrec_core.settings import Settings

app = typer.Typer(help="Generate, validate and download GoodBooks data.", no_args_is_help=True)
console = Console()


@app.command()
def generate(
    scale: Annotated[str, typer.Option(help=f"One of: {', '.join(SCALES)}.")] = "tiny",
    out: Annotated[Path, typer.Option(help="Folder to write the five CSVs into.")] = Path("data"),
    seed: Annotated[int | None, typer.Option(help="Default: GBREC_SYNTHETIC_SEED.")] = None,
) -> None:
    """Write a deterministic synthetic GoodBooks data set."""
    if scale not in SCALES:
        raise typer.BadParameter(f"choose one of {', '.join(SCALES)}", param_hint="--scale")
    seed = Settings().synthetic_seed if seed is None else seed
    scale_name: ScaleName = scale  # type: ignore[assignment]
    with console.status(f"generating {scale} data set (seed {seed})"):
        folder = generate_data(scale_name, out, seed=seed)
    console.print(f"wrote synthetic [bold]{scale}[/bold] data set to {folder}")


def _render(report: ValidationReport, target: Path) -> None:
    table = Table(title=f"Validation of {target}")
    for col in ("file", "rule", "count", "message", "example"):
        table.add_column(col, overflow="fold", no_wrap=col in ("file", "rule", "count"))
    for v in report.violations:
        example = json.dumps(v.examples[0], default=str) if v.examples else ""
        table.add_row(v.file, v.rule, str(v.count), v.message, example)
    if report.violations:
        console.print(table)
        console.print(
            f"[red]{len(report.violations)} violation(s)[/red] of "
            f"{len(report.rules_checked)} rules checked"
        )
    else:
        rows = ", ".join(f"{f}: {n:,}" for f, n in report.rows.items())
        console.print(f"[green]valid[/green]: {len(report.rules_checked)} rules checked ({rows})")


@app.command()
def validate(
    target: Annotated[Path, typer.Argument(help="A GoodBooks folder or a ratings CSV file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    previous: Annotated[
        Path | None, typer.Option(help="Previous snapshot JSON or data folder (drift rules).")
    ] = None,
    min_user_ratings: Annotated[
        int | None, typer.Option(help="Default: GBREC_MIN_USER_RATINGS.")
    ] = None,
    snapshot_out: Annotated[
        Path | None, typer.Option(help="Save the ratings snapshot JSON here (for --previous).")
    ] = None,
) -> None:
    """Check every validation rule; exit 1 when any is violated."""
    minimum = Settings().min_user_ratings if min_user_ratings is None else min_user_ratings
    config = ValidationConfig(min_user_ratings=minimum)
    try:
        if target.is_file():
            report = validate_ratings(target, previous=previous, config=config)
        else:
            report = validate_dataset(target, previous=previous, config=config)
    except GbrecError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from e
    if snapshot_out is not None and report.snapshot is not None:
        report.snapshot.save(snapshot_out)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), default=str))
    else:
        _render(report, target)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def download(
    out: Annotated[
        Path | None, typer.Option(help="Default: $GBREC_HOME/data/goodbooks-10k.")
    ] = None,
) -> None:
    """Download and extract the real GoodBooks-10k release."""
    settings = Settings()
    folder = out or settings.data_dir / "goodbooks-10k"
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("goodbooks-10k.zip", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        try:
            download_dataset(
                settings.download_url, folder, sha256=settings.download_sha256, progress=progress
            )
        except GbrecError as e:
            console.print(f"[red]error:[/red] {e}")
            raise typer.Exit(1) from e
    console.print(f"GoodBooks-10k extracted to {folder}")
