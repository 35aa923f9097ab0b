"""CLI commands contributed by gbrec_assets (registered through the gbrec.cli entry point)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to the gbrec CLI."""
