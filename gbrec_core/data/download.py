"""Downloader for the real GoodBooks-10k release.

Streams the zip with httpx into ``<name>.part``, resumes an interrupted transfer
with an HTTP ``Range`` request (or restarts cleanly when the server ignores it),
verifies size and optional sha256, then renames atomically and extracts the five
CSVs (each written to a temporary name and renamed), so a crash never leaves a
half-written file under a final name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from gbrec_core.data.schema import FILES
from gbrec_core.errors import DownloadError

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


@dataclasses.dataclass(frozen=True)
class DownloadConfig:
    retries: int = 3
    timeout: float = 30.0
    backoff: float = 0.5
    chunk_size: int = 1 << 20


def _total(resp: httpx.Response, offset: int) -> int | None:
    if resp.status_code == 206:
        rng = resp.headers.get("content-range", "")
        total = rng.rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = resp.headers.get("content-length")
    return int(length) + offset if length and length.isdigit() else None


def _stream_once(
    client: httpx.Client, url: str, part: Path, progress: ProgressCallback | None, chunk_size: int
) -> int | None:
    """One GET (ranged when ``part`` exists); return the expected total size."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 416:  # our partial file is stale or complete: start over
            part.unlink()
            return -1
        if resp.status_code >= 400:
            raise DownloadError(f"GET {url} failed with HTTP {resp.status_code}")
        if resp.status_code != 206:
            offset = 0  # the server ignored Range: restart cleanly
        total = _total(resp, offset)
        done = offset
        with part.open("ab" if offset else "wb") as fh:
            for chunk in resp.iter_bytes(chunk_size):
                fh.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    return total


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_part(
    url: str, part: Path, progress: ProgressCallback | None, config: DownloadConfig
) -> None:
    last: Exception | None = None
    with httpx.Client(timeout=config.timeout, follow_redirects=True) as client:
        for attempt in range(config.retries + 1):
            try:
                total = _stream_once(client, url, part, progress, config.chunk_size)
            except httpx.TransportError as e:
                last = e
                logger.warning("download attempt %d of %s interrupted: %s", attempt + 1, url, e)
                time.sleep(config.backoff * (attempt + 1))
                continue
            if total is None or (total >= 0 and part.stat().st_size == total):
                return
            last = DownloadError(f"got {part.stat().st_size} bytes, expected {total}")
    raise DownloadError(
        f"cannot download {url} after {config.retries + 1} attempts ({last}); "
        "check the network connection (offline?) or set GBREC_DATASET to a local folder"
    ) from last


def fetch(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    config: DownloadConfig | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming and verifying size/sha256."""
    config = config or DownloadConfig()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for clean_retry in (False, True):
        _fetch_part(url, part, progress, config)
        problem = _verify(part, sha256, expected_size)
        if problem is None:
            os.replace(part, dest)
            return dest
        part.unlink(missing_ok=True)
        logger.warning(
            "downloaded file failed verification (%s)%s",
            problem,
            "" if clean_retry else "; retrying from scratch",
        )
    raise DownloadError(f"download of {url} failed verification: {problem}")


def _verify(part: Path, sha256: str | None, expected_size: int | None) -> str | None:
    size = part.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"size {size} != expected {expected_size}"
    if sha256 is not None:
        actual = _sha256(part)
        if actual.lower() != sha256.lower():
            return f"sha256 {actual} != expected {sha256}"
    return None


def extract(zip_path: str | Path, out_dir: str | Path) -> Path:
    """Extract the five GoodBooks CSVs (wherever they sit inside the zip) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = {Path(n).name: n for n in zf.namelist() if Path(n).name in FILES}
            missing = [f for f in FILES if f not in members]
            if missing:
                raise DownloadError(f"{zip_path} lacks {', '.join(missing)}")
            for name, member in members.items():
                tmp = out / (name + ".tmp")
                with zf.open(member) as src, tmp.open("wb") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
                os.replace(tmp, out / name)
    except zipfile.BadZipFile as e:
        raise DownloadError(f"{zip_path} is not a valid zip archive: {e}") from e
    return out


def download_dataset(
    url: str,
    out_dir: str | Path,
    *,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    config: DownloadConfig | None = None,
) -> Path:
    """Fetch the GoodBooks zip into ``out_dir`` and extract its five CSVs there."""
    out = Path(out_dir)
    archive = fetch(
        url,
        out / "goodbooks-10k.zip",
        sha256=sha256,
        expected_size=expected_size,
        progress=progress,
        config=config,
    )
    try:
        return extract(archive, out)
    except DownloadError:
        archive.unlink(missing_ok=True)  # a broken archive must not be reused next time
        raise
