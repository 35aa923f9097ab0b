"""Folders under ``GBREC_HOME`` that more than one entry point prepares."""

from __future__ import annotations

import shutil
from pathlib import Path

from gbrec_core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]


def dagster_home(settings: Settings) -> Path:
    """``$GBREC_HOME/dagster``, holding a copy of the repository's ``dagster.yaml``.

    Both ``gbrec materialize`` and ``gbrec demo`` use it as DAGSTER_HOME, so the runs
    of one appear in the UI of the other.
    """
    home = settings.resolved_home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    if source.is_file() and not (home / "dagster.yaml").exists():
        shutil.copyfile(source, home / "dagster.yaml")
    return home
