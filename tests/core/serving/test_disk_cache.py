"""The on-disk version cache is shared by every API worker of a GBREC_HOME."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from gbrec_core.access.signing import Signer
from gbrec_core.registry import ModelVersionInfo
from gbrec_core.serving.disk_cache import DiskCache

SIGNER = Signer(b"disk-cache-test-key")


def _info(version: str) -> ModelVersionInfo:
    return ModelVersionInfo(
        version=version, aliases=["champion"], metrics={}, created_at=datetime.now(UTC),
        run_id="run", checksum="abc", model="als",
    )  # fmt: skip


def test_concurrent_writers_of_the_champion_marker_never_collide(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, SIGNER)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: cache.set_champion(str(i % 3)), range(400)))
    assert cache.champion() in {"0", "1", "2"}
    assert not list(tmp_path.glob("*.tmp"))


def test_two_workers_committing_the_same_version_both_succeed(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, SIGNER)

    def download_and_commit(_: int) -> Path:
        staged = cache.staging_dir()
        (staged / "model.bin").write_bytes(b"weights")
        return cache.commit(staged, _info("7"))

    with ThreadPoolExecutor(4) as pool:
        targets = set(pool.map(download_and_commit, range(8)))
    assert targets == {cache.path("7")}
    assert cache.has("7")
    assert (cache.path("7") / "model.bin").read_bytes() == b"weights"
    assert not list(tmp_path.glob(".download-*"))


def test_edited_or_unsigned_cache_files_are_refused_and_counted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, SIGNER)
    staged = cache.staging_dir()
    (staged / "model.bin").write_bytes(b"weights")
    cache.commit(staged, _info("3"))
    cache.set_champion("3")
    assert cache.info("3") is not None and cache.champion() == "3"

    marker = tmp_path / "champion.json"
    marker.write_bytes(marker.read_bytes().replace(b'"3"', b'"1"'))
    info = tmp_path / "v3.json"
    info.write_bytes(info.read_bytes().partition(b"\n")[2])  # the pre-signing format
    assert cache.champion() is None
    assert cache.info("3") is None
    assert cache.rejected["signature"] == 2
    assert DiskCache(tmp_path, Signer(b"another key")).champion() is None
