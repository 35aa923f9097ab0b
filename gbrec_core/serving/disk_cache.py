"""Downloaded bundles kept under $GBREC_HOME/serving/<model name>/ across restarts.

Each version lives in ``v<N>/`` beside ``v<N>.json`` (its registry info, including the
registry's checksum), and ``champion.json`` names the last champion this host served,
so a restart while MLflow is down can still serve it.

Every JSON file here starts with a signature line (HMAC of the JSON bytes that follow,
the process signing key; one file, so one atomic replace) and each bundle copy keeps
its own signed manifest, so a file edited on
this disk is refused before it is parsed: the loader then refetches from the registry.
Refusals are counted in :attr:`DiskCache.rejected` and logged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from gbrec_core.access.signing import Signer
from gbrec_core.errors import SignatureError
from gbrec_core.registry import ModelVersionInfo

log = logging.getLogger(__name__)


class DiskCache:
    def __init__(self, root: Path, signer: Signer) -> None:
        self.root = root
        self.signer = signer
        #: Refused files by reason ("signature"): counted, logged, then refetched.
        self.rejected: Counter[str] = Counter()

    def path(self, version: str) -> Path:
        return self.root / f"v{version}"

    def info(self, version: str) -> ModelVersionInfo | None:
        raw = self._read_json(f"v{version}.json")
        if raw is None:
            return None
        try:
            raw["created_at"] = datetime.fromisoformat(raw["created_at"])
            return ModelVersionInfo(**raw)
        except (KeyError, TypeError, ValueError):
            log.warning("disk cache info of v%s is malformed; ignoring it", version)
            return None

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
        raw = self._read_json("champion.json")
        return None if raw is None or "version" not in raw else str(raw["version"])

    def _read_json(self, name: str) -> dict[str, Any] | None:
        """The file's content, or None when missing, unsigned or mis-signed (logged)."""
        try:
            signature, _, payload = (self.root / name).read_bytes().partition(b"\n")
        except OSError:
            return None
        try:
            self.signer.verify(payload, signature.decode(errors="replace"), what=f"cached {name}")
            raw = json.loads(payload)
        except SignatureError as e:
            self.rejected["signature"] += 1
            log.error("%s; ignoring the cached copy", e)
            return None
        except ValueError:
            return None
        return raw if isinstance(raw, dict) else None

    def _write_json(self, name: str, payload: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = json.dumps(payload, sort_keys=True).encode()
        self._replace(name, self.signer.sign(data).encode() + b"\n" + data)

    def _replace(self, name: str, data: bytes) -> None:
        # A unique temporary name per writer: API workers share this folder.
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.root)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, self.root / name)


def _info_dict(info: ModelVersionInfo) -> dict[str, Any]:
    raw = dataclasses.asdict(info)
    raw["created_at"] = info.created_at.isoformat()
    return raw
