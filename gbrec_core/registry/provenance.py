"""Code version and run tags recorded with every training run."""

from __future__ import annotations

import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

_METRIC_NAME = re.compile(r"[^0-9A-Za-z_\-. /]")


class FingerprintLike(Protocol):
    """What ``gbrec_core.data.fingerprint`` returns."""

    sha256: str
    rows: int
    users: int
    books: int


def code_version() -> dict[str, str]:
    """Package version, and the git commit when gbrec runs from a checkout."""
    try:
        version = metadata.version("gbrec")
    except metadata.PackageNotFoundError:
        version = "unknown"
    tags = {"gbrec.version": version}
    sha = _git_sha(Path(__file__).resolve().parents[2])
    if sha:
        tags["gbrec.git_sha"] = sha
    return tags


def fingerprint_tags(fingerprint: FingerprintLike | dict[str, Any]) -> dict[str, str]:
    keys = ("sha256", "rows", "users", "books")
    if isinstance(fingerprint, dict):
        return {f"data.{key}": str(fingerprint[key]) for key in keys}
    return {f"data.{key}": str(getattr(fingerprint, key)) for key in keys}


def metric_name(name: str) -> str:
    """MLflow rejects some characters (e.g. '@' in 'recall@10'); map them to '_'."""
    return _METRIC_NAME.sub("_", name)


def flat_params(prefix: str, values: dict[str, Any]) -> dict[str, str]:
    return {f"{prefix}{key}": str(value)[:6000] for key, value in values.items()}


def _git_sha(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
