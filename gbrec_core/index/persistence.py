"""Index folders: shard files plus a checksummed ``manifest.json``, written atomically.

A save goes to a temporary sibling folder that is renamed into place only when
every file and the manifest are on disk, so a crash never leaves a half-written
index under the final name. Loading re-hashes every file listed in the manifest.

With a :class:`~gbrec_core.access.signing.Signer` the manifest's exact bytes are
signed into ``manifest.sig`` (HMAC-SHA256 with the deployment's signing key) and,
on load, verified before the JSON is parsed: the checksums inside the manifest then
vouch for every file, so a tampered shard file or manifest, or an unsigned folder,
is refused with ``SignatureError``. Without a signer (library use, benchmarks)
folders are written and read unsigned; the pipeline and the API always pass one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gbrec_core.access.signing import Signer
from gbrec_core.errors import IndexLoadError

FORMAT = "gbrec-index"
VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE_SUFFIX = ".sig"
_CHUNK = 1 << 22


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_index_dir(
    path: Path,
    writer: Callable[[Path], dict[str, Any]],
    *,
    fmt: str = FORMAT,
    signer: Signer | None = None,
) -> Path:
    """Run ``writer(tmp_dir) -> manifest`` and publish the folder atomically at ``path``.

    ``fmt`` names what the folder holds (an index by default; stored embeddings use
    the same checksummed layout under another format name).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        manifest = writer(tmp)
        files = sorted(p for p in tmp.iterdir() if p.is_file())
        manifest = {"format": fmt, "version": VERSION, **manifest}
        manifest["files"] = {
            p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in files
        }
        write_signed(tmp / MANIFEST, _json_bytes(manifest), signer)
        _swap_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_manifest(
    path: Path, *, verify: bool = True, fmt: str = FORMAT, signer: Signer | None = None
) -> dict[str, Any]:
    """The manifest of an index folder, after checking its signature (with ``signer``),
    format and (optionally) checksums."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise IndexLoadError(f"{path} is not a gbrec index: {MANIFEST} is missing")
    try:
        payload = read_verified(manifest_path, signer, what=f"index manifest {manifest_path}")
        manifest = json.loads(payload.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexLoadError(f"{manifest_path} is unreadable or corrupted: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        raise IndexLoadError(f"{path} holds no {fmt} folder (format is not {fmt!r})")
    if manifest.get("version") != VERSION:
        raise IndexLoadError(f"{path}: unsupported index format version {manifest.get('version')}")
    if verify:
        verify_files(path, manifest)
    return manifest


def verify_files(path: Path, manifest: dict[str, Any]) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise IndexLoadError(f"{path}/{MANIFEST} lists no files")
    for name, meta in files.items():
        file = path / name
        if not file.is_file():
            raise IndexLoadError(f"index {path} is partial: {name} is missing")
        if file.stat().st_size != meta.get("bytes"):
            raise IndexLoadError(f"index {path}: {name} has the wrong size (truncated?)")
        if sha256_file(file) != meta.get("sha256"):
            raise IndexLoadError(f"index {path}: checksum mismatch for {name} (corrupted)")


def write_signed(path: Path, payload: bytes, signer: Signer | None) -> None:
    """Write ``payload`` (fsynced) and, with a signer, its signature beside it."""
    if signer is not None:
        _write_bytes(signature_path(path), signer.sign(payload).encode())
    _write_bytes(path, payload)


def read_verified(path: Path, signer: Signer | None, *, what: str) -> bytes:
    """The bytes of ``path``, verified against its signature file when ``signer`` is set
    (``SignatureError`` if the file is unsigned or the signature does not match)."""
    payload = path.read_bytes()
    if signer is not None:
        sig_path = signature_path(path)
        signature = sig_path.read_text(encoding="ascii") if sig_path.is_file() else None
        signer.verify(payload, signature, what=what)
    return payload


def signature_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json") + SIGNATURE_SUFFIX)


def _json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, indent=1, sort_keys=True).encode("utf-8")


def _write_bytes(path: Path, payload: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())


def _swap_into_place(tmp: Path, path: Path) -> None:
    # Directories cannot be replaced by rename while non-empty, so the old one moves aside
    # first; readers see either the old complete index or the new complete one.
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{uuid.uuid4().hex}"
        path.rename(old)
    tmp.rename(path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
