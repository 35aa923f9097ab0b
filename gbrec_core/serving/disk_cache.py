"""Downloaded bundles kept under $GBREC_HOME/serving/<model name>/ across restarts.

Each version lives in ``v<N>/`` beside ``v<N>.json`` (its registry info, including the
registry's checksum), and ``champion.json`` names the last champion this host served,
so a restart while MLflow is down can still serve it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from gbrec_core.registry import ModelVersionInfo

log = logging.getLogger(__name__)


class DiskCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, version: str) -> Path:
        return self.root / f"v{version}"

    def info(self, version: str) -> ModelVersionInfo | None:
        try:
            raw: dict[str, Any] = json.loads((self.root / f"v{version}.json").read_text())
        except (OSError, ValueError):
            return None
        raw["created_at"] = datetime.fromisoformat(raw["created_at"])
        return ModelVersionInfo(**raw)

    def has(self, version: str) -> bool:
        return self.path(version).is_dir() and self.info(version) is not None

    def staging_dir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".download-", dir=self.root))

    def commit(self, staged: Path, info: ModelVersionInfo) -> Path:
        """Move a verified download into place; the json is written last (it marks done)."""
        target = self.path(info.version)
        if self.has(info.version):  # another API worker committed it first
            shutil.rmtree(staged, ignore_errors=True)
            return target
        shutil.rmtree(target, ignore_errors=True)  # a partial leftover of a crash
        try:
            staged.rename(target)
        except OSError:
            # Lost a race with another process committing the same version.
            shutil.rmtree(staged, ignore_errors=True)
            if not target.is_dir():
                raise
        self._write_json(f"v{info.version}.json", _info_dict(info))
        return target

    def discard(self, version: str) -> None:
        (self.root / f"v{version}.json").unlink(missing_ok=True)
        shutil.rmtree(self.path(version), ignore_errors=True)

    def set_champion(self, version: str) -> None:
        self._write_json("champion.json", {"version": version})

    def champion(self) -> str | None:
        try:
            return str(json.loads((self.root / "champion.json").read_text())["version"])
        except (OSError, ValueError, KeyError):
            return None

    def _write_json(self, name: str, payload: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # A unique temporary name per writer: API workers share this folder.
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.root)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(payload, sort_keys=True))
        os.replace(tmp, self.root / name)


def _info_dict(info: ModelVersionInfo) -> dict[str, Any]:
    raw = dataclasses.asdict(info)
    raw["created_at"] = info.created_at.isoformat()
    return raw
