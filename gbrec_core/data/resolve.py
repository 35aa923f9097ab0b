"""Map ``Settings.dataset`` onto a folder holding the five GoodBooks CSVs."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from gbrec_core.data.download import ProgressCallback, download_dataset
from gbrec_core.data.generator import GENERATOR_VERSION, MANIFEST, generate
from gbrec_core.data.schema import FILES
from gbrec_core.errors import ConfigurationError
from gbrec_core.settings import Settings

logger = logging.getLogger(__name__)

GOODBOOKS = "goodbooks-10k"


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in FILES)


def _synthetic_current(folder: Path, settings: Settings) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    wanted = {
        "scale": settings.synthetic_scale,
        "seed": settings.synthetic_seed,
        "generator_version": GENERATOR_VERSION,
    }
    return _complete(folder) and manifest == wanted


def _synthetic(settings: Settings) -> Path:
    folder = settings.data_dir / f"synthetic-{settings.synthetic_scale}"
    if _synthetic_current(folder, settings):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Generate beside the target and swap it in, so concurrent readers never see half a set.
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        generate(settings.synthetic_scale, tmp, seed=settings.synthetic_seed)
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def resolve_dataset(settings: Settings, progress: ProgressCallback | None = None) -> Path:
    """Folder with the CSVs: generated ('synthetic'), downloaded ('goodbooks-10k') or given."""
    if settings.dataset == "synthetic":
        return _synthetic(settings)
    if settings.dataset == GOODBOOKS:
        folder = settings.data_dir / GOODBOOKS
        if not _complete(folder):
            download_dataset(
                settings.download_url, folder, sha256=settings.download_sha256, progress=progress
            )
        return folder
    folder = Path(settings.dataset).expanduser()
    if not folder.is_dir():
        raise ConfigurationError(
            f"GBREC_DATASET={settings.dataset!r} is neither 'synthetic', '{GOODBOOKS}' "
            "nor an existing folder"
        )
    return folder
